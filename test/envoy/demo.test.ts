// `npm run demo -- --envoy` tells the quick start's story through real Envoy: the same answers.
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../cli/demo.js';
import { envoyMissingReason } from '../../cli/envoy/process.js';

describe.skipIf(envoyMissingReason() !== undefined)('wfk demo --envoy', () => {
  it('allows, denies with 403, limits with 429, pins a tester to the canary, opens a circuit on a failing canary and counts, in real Envoy', async () => {
    const lines: string[] = [];
    await runDemo((line) => lines.push(line), { envoy: true });
    const text = lines.join('\n');
    expect(text).toContain('Chain (in real Envoy)');
    expect(text).toMatch(/GET \/reviews\/1 as alice\s+-> 200 served by cluster reviews-v1/);
    expect(text).toMatch(/GET \/admin\/users as bob\s+-> 403 answered by Envoy/);
    expect(text).toMatch(/carol \(#4\)\s+-> 429 answered by Envoy/);
    expect(text).toMatch(/x-ratelimit-limit: 3, 3;w=10, x-ratelimit-remaining: 0, retry-after: 4/);
    expect(text).toMatch(/4 s later, carol again \(a token came back\)\s+-> 200/);
    expect(text).toMatch(/tester=yes\s+-> 200 served by cluster reviews-canary/);
    // The canary goes down: three 503s open its circuit, the fourth tester gets the fallback, a probe closes it.
    expect(text).toMatch(/tester-3 \(canary down\)\s+-> 503 served by cluster reviews-canary/);
    expect(text).toMatch(/tester-4 \(circuit open\)\s+-> 200 answered by Envoy/);
    expect(text).toContain('x-circuit-state: open; body: {"reviews":[],"degraded":true}');
    expect(text).toMatch(/tester-5 \(a probe: canary is back\)\s+-> 200 served by cluster reviews-canary/);
    expect(text).toContain('x-circuit-state: half-open');
    expect(text).toMatch(/circuit_breaker_trips\{circuit="reviews-canary"\} 1/);
    expect(text).toMatch(/circuit_breaker_state\{circuit="reviews-canary"\} 0/);
    expect(text).toContain('istio_requests_total{reporter="destination",source_app="productpage",destination_app="reviews",response_code="429",response_flags="-"} 1');
  }, 300_000);
});
