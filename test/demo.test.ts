// The README's first command tells a story; this checks the story is true.
import { describe, expect, it } from 'vitest';
import { runDemo } from '../cli/demo.js';

describe('wfk demo', () => {
  it('shows requests allowed, one denied with 403, a burst limited with 429, a tester on the canary, a circuit opening and closing, and the metrics', async () => {
    const lines: string[] = [];
    await runDemo((line) => lines.push(line));
    const text = lines.join('\n');
    expect(text).toMatch(/GET \/reviews\/1 as alice\s+-> 200 served by cluster reviews-v1/);
    expect(text).toMatch(/GET \/admin\/users as bob\s+-> 403 answered by access-control/);
    expect(text).toMatch(/carol \(#4\)\s+-> 429 answered by rate-quota/);
    expect(text).toMatch(/x-ratelimit-limit: 3, 3;w=10, x-ratelimit-remaining: 0, retry-after: 4/);
    expect(text).toMatch(/tester=yes\s+-> 200 served by cluster reviews-canary/);
    // The canary goes down: three 503s open its circuit, the fourth tester gets the fallback, a probe closes it.
    expect(text).toMatch(/tester-3 \(canary down\)\s+-> 503 served by cluster reviews-canary/);
    expect(text).toMatch(/tester-4 \(circuit open\)\s+-> 200 answered by circuit-breaker/);
    expect(text).toContain('x-circuit-state: open; body: {"reviews":[],"degraded":true}');
    expect(text).toMatch(/tester-5 \(a probe: canary is back\)\s+-> 200 served by cluster reviews-canary/);
    expect(text).toContain('x-circuit-state: half-open');
    expect(text).toMatch(/circuit_breaker_trips\{circuit="reviews-canary"\} 1/);
    expect(text).toMatch(/circuit_breaker_state\{circuit="reviews-canary"\} 0/);
    expect(text).toContain('istio_requests_total{reporter="destination",source_app="productpage",destination_app="reviews",response_code="429",response_flags="-"} 1');
  }, 300_000);
});
