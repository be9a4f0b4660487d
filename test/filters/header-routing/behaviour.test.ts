// filters/header-routing in host-sim: matchers, targets through Envoy's router, weights and
// stickiness, faults on the virtual clock, and configuration errors.
import { describe, expect, it } from 'vitest';
import { Host, type HostOptions, type RequestSpec, type Route } from '../../../host-sim/index.js';
import { filterModule } from '../../support/modules.js';
import { rejectsConfigurations } from '../../support/filters.js';
import { closeAfterTest } from '../../support/hosts.js';


const clusters = {
  'reviews-v1': () => ({ status: 200, body: 'v1' }),
  'reviews-v2': () => ({ status: 200, body: 'v2' }),
  'reviews-canary': () => ({ status: 200, body: 'canary' }),
};
/** Envoy's route table: cluster_header when the filter set it, then a header-matched route, else v1. */
const routes: Route[] = [
  { name: 'by-header', match: { prefix: '/', headers: [{ name: 'x-route-cluster', present: true }] }, clusterHeader: 'x-route-cluster' },
  { name: 'by-version', match: { prefix: '/', headers: [{ name: 'x-version', exact: 'v2' }] }, cluster: 'reviews-v2' },
  { name: 'default', match: { prefix: '/' }, cluster: 'reviews-v1' },
];

function routing(configuration: object, options: HostOptions = {}): Host {
  const host = new Host({ clusters, routes, ...options });
  closeAfterTest(host);
  host.addPlugin({ module: filterModule('header-routing'), rootId: 'header-routing', configuration });
  return host;
}

async function clusterOf(host: Host, spec: RequestSpec = {}): Promise<string | undefined> {
  return (await host.request(spec)).upstream?.cluster;
}

const toCanary = (match: object) => ({ rules: [{ name: 'canary', match, targets: [{ cluster: 'reviews-canary' }] }] });

describe('header-routing: matchers', () => {
  it('matches headers exactly, by prefix, suffix, substring, regex, presence, absence and inverted', async () => {
    const cases: [object, RequestSpec, boolean][] = [
      [{ headers: [{ name: 'x-user', exact: 'alice' }] }, { headers: { 'x-user': 'alice' } }, true],
      [{ headers: [{ name: 'x-user', exact: 'alice' }] }, { headers: { 'x-user': 'alicia' } }, false],
      [{ headers: [{ name: 'x-user', prefix: 'ali' }] }, { headers: { 'x-user': 'alicia' } }, true],
      [{ headers: [{ name: 'x-user', suffix: 'cia' }] }, { headers: { 'x-user': 'alicia' } }, true],
      [{ headers: [{ name: 'x-user', contains: 'lic' }] }, { headers: { 'x-user': 'alicia' } }, true],
      [{ headers: [{ name: 'x-user', regex: 'a.*a' }] }, { headers: { 'x-user': 'alicia' } }, true],
      [{ headers: [{ name: 'x-user', regex: 'a.*a' }] }, { headers: { 'x-user': 'alice' } }, false],
      [{ headers: [{ name: 'x-beta', present: true }] }, { headers: { 'x-beta': '' } }, true],
      [{ headers: [{ name: 'x-beta', absent: true }] }, {}, true],
      [{ headers: [{ name: 'x-user', exact: 'alice', invert: true }] }, { headers: { 'x-user': 'bob' } }, true],
    ];
    for (const [match, spec, expected] of cases) {
      const host = routing(toCanary(match));
      expect(await clusterOf(host, spec), JSON.stringify(match)).toBe(expected ? 'reviews-canary' : 'reviews-v1');
    }
  });

  it('matches cookies, query parameters, the path, the method and the source address', async () => {
    const cases: [object, RequestSpec, boolean][] = [
      [{ cookies: [{ name: 'beta', exact: '1' }] }, { headers: { cookie: 'session=abc; beta=1' } }, true],
      [{ cookies: [{ name: 'beta', exact: '1' }] }, { headers: { cookie: 'betax=1' } }, false],
      [{ query_params: [{ name: 'v', exact: '2' }] }, { path: '/reviews?x=1&v=2' }, true],
      [{ path: { prefix: '/reviews' } }, { path: '/reviews/1?x=1' }, true],
      [{ path: { regex: '/reviews/[0-9]+' } }, { path: '/reviews/12?x=1' }, true],
      [{ path: { exact: '/reviews' } }, { path: '/reviews/1' }, false],
      [{ methods: ['POST', 'PUT'] }, { method: 'PUT' }, true],
      [{ methods: ['POST'] }, { method: 'GET' }, false],
      [{ source_cidrs: ['10.0.0.0/8'] }, { source: '10.1.1.1:1' }, true],
      [{ source_cidrs: ['10.0.0.0/8'] }, { source: '172.16.0.1:1' }, false],
    ];
    for (const [match, spec, expected] of cases) {
      const host = routing(toCanary(match));
      expect(await clusterOf(host, spec), JSON.stringify(match)).toBe(expected ? 'reviews-canary' : 'reviews-v1');
    }
  });

  it('lets the first matching rule decide', async () => {
    const host = routing({ rules: [
      { name: 'alice', match: { headers: [{ name: 'x-user', exact: 'alice' }] }, targets: [{ cluster: 'reviews-canary' }] },
      { name: 'everyone', targets: [{ cluster: 'reviews-v2' }] },
    ] });
    expect(await clusterOf(host, { headers: { 'x-user': 'alice' } })).toBe('reviews-canary');
    expect(await clusterOf(host, { headers: { 'x-user': 'bob' } })).toBe('reviews-v2');
  });
});

describe('header-routing: targets through Envoy\'s router', () => {
  it('removes a client\'s own cluster and target headers, so no client picks its upstream', async () => {
    const host = routing({ rules: [
      { name: 'alice', match: { headers: [{ name: 'x-user', exact: 'alice' }] }, targets: [{ headers: { 'x-version': 'v2' } }] },
    ] });
    expect(await clusterOf(host, { headers: { 'x-route-cluster': 'reviews-canary' } })).toBe('reviews-v1');
    expect(await clusterOf(host, { headers: { 'x-version': 'v2' } })).toBe('reviews-v1');
    expect(await clusterOf(host, { headers: { 'x-user': 'alice' } })).toBe('reviews-v2');
  });

  it('writes the cluster to the header the route reads and clears the route cache', async () => {
    const host = routing({ echo_header: 'x-route-decision', ...toCanary({ headers: [{ name: 'x-user', exact: 'alice' }] }) });
    const r = await host.request({ headers: { 'x-user': 'alice' } });
    // Envoy chose "default" before the filter ran; only the cleared cache lets it choose again.
    expect(r.route!.route!.name).toBe('by-header');
    expect(r.upstream!.cluster).toBe('reviews-canary');
    expect(r.upstream!.headers).toContainEqual(['x-route-cluster', 'reviews-canary']);
    expect(r.headers).toContainEqual(['x-route-decision', 'rule=canary;target=reviews-canary']);
    expect(host.metrics.value('header_routing.canary.reviews-canary.routed')).toBe(1);
  });

  it('sets header values that the route table matches on', async () => {
    const host = routing({ rules: [{ name: 'v2', match: { cookies: [{ name: 'version', exact: '2' }] }, targets: [{ headers: { 'x-version': 'v2' } }] }] });
    const r = await host.request({ headers: { cookie: 'version=2' } });
    expect(r.upstream!.cluster).toBe('reviews-v2');
    expect(r.route!.route!.name).toBe('by-version');
  });

  it('splits by weight within tolerance over 10,000 requests', async () => {
    const host = routing({ rules: [{ name: 'split', targets: [{ cluster: 'reviews-canary', weight: 1 }, { cluster: 'reviews-v2', weight: 9 }, { cluster: 'reviews-v1', weight: 90 }] }] });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 10_000; i++) {
      const cluster = (await clusterOf(host))!;
      counts[cluster] = (counts[cluster] ?? 0) + 1;
    }
    expect(counts['reviews-canary']).toBeGreaterThan(50);
    expect(counts['reviews-canary']).toBeLessThan(160);
    expect(counts['reviews-v2']).toBeGreaterThan(800);
    expect(counts['reviews-v2']).toBeLessThan(1000);
    expect(counts['reviews-v1']).toBeGreaterThan(8850);
  });

  it('keeps a user on one target with a sticky key, and spreads users by weight', async () => {
    const host = routing({ rules: [{ name: 'canary', sticky_key: { header: 'x-user-id' },
      targets: [{ cluster: 'reviews-canary', weight: 20 }, { cluster: 'reviews-v1', weight: 80 }] }] });
    const canaryUsers = new Set<string>();
    for (let user = 0; user < 500; user++) {
      const first = await clusterOf(host, { headers: { 'x-user-id': `user-${user}` } });
      for (let again = 0; again < 3; again++) expect(await clusterOf(host, { headers: { 'x-user-id': `user-${user}` } })).toBe(first);
      if (first === 'reviews-canary') canaryUsers.add(`user-${user}`);
    }
    expect(canaryUsers.size).toBeGreaterThan(60);
    expect(canaryUsers.size).toBeLessThan(140);
  });

  it('uses a cookie as the sticky key', async () => {
    const host = routing({ rules: [{ name: 'ab', sticky_key: { cookie: 'session' }, targets: [{ cluster: 'reviews-v2', weight: 50 }, { cluster: 'reviews-v1', weight: 50 }] }] });
    const first = await clusterOf(host, { headers: { cookie: 'session=xyz' } });
    for (let i = 0; i < 5; i++) expect(await clusterOf(host, { headers: { cookie: 'theme=dark; session=xyz' } })).toBe(first);
  });
});

describe('header-routing: faults', () => {
  it('delays the request by the fixed delay, measured on the virtual clock', async () => {
    const host = routing({ rules: [{ name: 'slow', fault: { delay: { percentage: 100, fixed_delay: '2s' } }, targets: [{ cluster: 'reviews-v2' }] }] });
    const stream = host.startRequest();
    const waiting = await host.wait(stream);
    expect(waiting.stalled).toBeDefined();
    await host.advance(1_990);
    expect((await host.wait(stream)).stalled).toBeDefined();
    await host.advance(10);
    const done = await host.wait(stream);
    expect(done.status).toBe(200);
    expect(done.upstream!.cluster).toBe('reviews-v2');
    expect(host.metrics.value('header_routing.slow.delayed')).toBe(1);
  });

  it('aborts about the configured share of requests with the HTTP status', async () => {
    const host = routing({ rules: [{ name: 'flaky', fault: { abort: { percentage: 10, http_status: 503 } }, targets: [{ cluster: 'reviews-v1' }] }] });
    let aborted = 0;
    for (let i = 0; i < 10_000; i++) {
      const r = await host.request();
      if (r.status === 503) { aborted++; expect(r.localReply!.details).toBe('fault_filter_abort'); }
    }
    expect(aborted).toBeGreaterThan(850);
    expect(aborted).toBeLessThan(1150);
    expect(host.metrics.value('header_routing.flaky.aborted')).toBe(aborted);
  });

  it('aborts a gRPC request with the gRPC status', async () => {
    const host = routing({ rules: [{ name: 'grpc', fault: { abort: { percentage: 100, grpc_status: 14 } }, targets: [{ cluster: 'reviews-v1' }] }] });
    const r = await host.request({ method: 'POST', headers: { 'content-type': 'application/grpc' } });
    expect(r.status).toBe(200);
    expect(r.headers).toContainEqual(['grpc-status', '14']);
  });

  it('delays and aborts together as Envoy\'s fault filter does: the delay first, then the abort', async () => {
    const host = routing({ rules: [{ name: 'both', fault: { abort: { percentage: 100, http_status: 500 }, delay: { percentage: 100, fixed_delay: '5s' } }, targets: [{ cluster: 'reviews-v1' }] }] });
    const stream = host.startRequest();
    expect((await host.wait(stream)).stalled).toBeDefined();
    await host.advance(5_000);
    const done = await host.wait(stream);
    expect(done.status).toBe(500);
    expect(done.upstream).toBeUndefined();
    expect(host.metrics.value('header_routing.both.delayed')).toBe(1);
    expect(host.metrics.value('header_routing.both.aborted')).toBe(1);
  });
});

describe('header-routing: timeouts and retries', () => {
  /** An upstream answering from a script (then 200), recording what reached it; 'hang' never answers. */
  function scripted(script: (number | 'hang')[]) {
    const seen: [string, string][][] = [];
    const handler = (request: { headers: [string, string][] }) => {
      const next = script[seen.length] ?? 200;
      seen.push(request.headers);
      return next === 'hang' ? new Promise<never>(() => {}) : { status: next, body: String(next) };
    };
    return { seen, handler };
  }

  it('sends the rule\'s timeout and retries to the router, which retries a failing upstream', async () => {
    const flaky = scripted([503, 500]);
    const host = routing({ rules: [{ name: 'api', targets: [{ cluster: 'reviews-v1' }], timeout: '3s',
      retries: { attempts: 2, per_try_timeout: '500ms', retry_on: 'gateway-error,5xx,unavailable,429' } }] },
    { clusters: { ...clusters, 'reviews-v1': flaky.handler } });
    const r = await host.request({}, { advanceClock: true });
    expect([r.status, r.upstream!.attempts]).toEqual([200, 3]);
    // The router removes its control headers before forwarding; it announces the per-try timeout.
    const names = flaky.seen[0].map(([k]) => k);
    expect(names.filter((k) => k.startsWith('x-envoy-') && k !== 'x-envoy-expected-rq-timeout-ms')).toEqual([]);
    expect(flaky.seen[0].find(([k]) => k === 'x-envoy-expected-rq-timeout-ms')?.[1]).toBe('500');
  });

  it('turns Istio-style retry_on into Envoy\'s HTTP conditions, gRPC conditions and status codes', async () => {
    const answers: [number, Record<string, string>][] = [[429, {}], [200, { 'grpc-status': '14' }], [200, { 'grpc-status': '0' }]];
    let n = 0;
    const host = routing({ rules: [{ name: 'api', targets: [{ cluster: 'reviews-v1' }], retries: { attempts: 3, retry_on: '5xx, unavailable,429' } }] },
      { clusters: { ...clusters, 'reviews-v1': () => { const [status, headers] = answers[n++]; return { status, headers }; } } });
    const r = await host.request({}, { advanceClock: true });
    // 429 is retried as a retriable status code, grpc-status 14 under the gRPC condition "unavailable".
    expect([r.status, r.headers.find(([k]) => k === 'grpc-status')?.[1], r.upstream!.attempts]).toEqual([200, '0', 3]);
  });

  it('gives up on a hanging upstream at the rule\'s timeout', async () => {
    const hanging = scripted(['hang']);
    const host = routing({ rules: [{ name: 'api', targets: [{ cluster: 'reviews-v1' }], timeout: '750ms' }] },
      { clusters: { ...clusters, 'reviews-v1': hanging.handler } });
    const started = host.now();
    const r = await host.request({}, { advanceClock: true });
    expect([r.status, r.body, host.now() - started]).toEqual([504, 'upstream request timeout', 750]);
  });

  it('removes retry and timeout headers an earlier filter set when its rule has none', async () => {
    const flaky = scripted([503]);
    const host = new Host({ clusters: { ...clusters, 'reviews-v1': flaky.handler }, routes });
    closeAfterTest(host);
    host.addPlugin({ module: filterModule('add-header'), rootId: 'add-header',
      configuration: JSON.stringify({ request_headers: { 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '5', 'x-envoy-upstream-rq-timeout-ms': '1' } }) });
    host.addPlugin({ module: filterModule('header-routing'), rootId: 'header-routing', configuration: { rules: [{ name: 'plain', targets: [{ cluster: 'reviews-v1' }] }] } });
    const r = await host.request({}, { advanceClock: true });
    expect([r.status, r.upstream!.attempts]).toEqual([503, 1]);
    expect(r.upstream!.headers.find(([k]) => k === 'x-envoy-expected-rq-timeout-ms')?.[1]).toBe('15000');
  });
});

describe('header-routing: configuration errors', () => {
  const cases: [string, object, RegExp][] = [
    ['weights not adding up to 100', { rules: [{ targets: [{ cluster: 'a', weight: 30 }, { cluster: 'b', weight: 60 }] }] }, /rules\[0\]\.targets: weights must add up to 100, they add up to 90/],
    ['a split without weights', { rules: [{ targets: [{ cluster: 'a' }, { cluster: 'b' }] }] }, /rules\[0\]\.targets\[0\]\.weight: is required when a rule splits traffic/],
    ['a bad regex', { rules: [{ match: { headers: [{ name: 'x', regex: '[a-' }] }, targets: [{ cluster: 'a' }] }] }, /rules\[0\]\.match\.headers\[0\]\.regex: invalid regex: missing closing \]/],
    ['an unknown target cluster', { clusters: ['a', 'b'], rules: [{ targets: [{ cluster: 'c' }] }] }, /rules\[0\]\.targets\[0\]\.cluster: unknown target cluster "c" \(clusters: a, b\)/],
    ['a target that is neither a cluster nor headers', { rules: [{ targets: [{ weight: 100 }] }] }, /rules\[0\]\.targets\[0\]: unknown target: give either "cluster" or "headers"/],
    ['a negative delay', { rules: [{ fault: { delay: { percentage: 10, fixed_delay: '-1s' } }, targets: [{ cluster: 'a' }] }] }, /rules\[0\]\.fault\.delay\.fixed_delay: "-1s" is not a duration/],
    ['a percentage above 100', { rules: [{ fault: { abort: { percentage: 150, http_status: 503 } }, targets: [{ cluster: 'a' }] }] }, /rules\[0\]\.fault\.abort\.percentage: must be between 0 and 100, got 150/],
    ['a timeout finer than a millisecond', { rules: [{ timeout: '1500us', targets: [{ cluster: 'a' }] }] }, /rules\[0\]\.timeout: must be whole milliseconds/],
    ['a timeout over a day', { rules: [{ timeout: '25h', targets: [{ cluster: 'a' }] }] }, /rules\[0\]\.timeout: must be at most 24h/],
    ['more than 10 retries', { rules: [{ retries: { attempts: 50 }, targets: [{ cluster: 'a' }] }] }, /rules\[0\]\.retries\.attempts: must be between 0 and 10, got 50/],
    ['an unknown retry condition', { rules: [{ retries: { retry_on: '5xx,sometimes' }, targets: [{ cluster: 'a' }] }] }, /rules\[0\]\.retries\.retry_on: "sometimes" is not a retry condition/],
    ['a zero per-try timeout', { rules: [{ retries: { per_try_timeout: '0s' }, targets: [{ cluster: 'a' }] }] }, /rules\[0\]\.retries\.per_try_timeout: must be longer than zero/],
  ];
  rejectsConfigurations('header-routing', cases);
});
