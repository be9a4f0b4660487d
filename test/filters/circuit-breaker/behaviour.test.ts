// filters/circuit-breaker in host-sim on the virtual clock: tripping, short-circuiting, back-off,
// half-open probes, closing, fallbacks, keys, workers sharing one circuit, what counts as a
// failure, bounded keys, and configuration errors. The Envoy tier runs the same story in Envoy.
import { describe, expect, it } from 'vitest';
import { Host, type HostOptions, type Route, type UpstreamResponse } from '../../../host-sim/index.js';
import { filterModule } from '../../support/modules.js';
import { rejectsConfigurations } from '../../support/filters.js';
import { closeAfterTest } from '../../support/hosts.js';

/** An upstream whose health the test switches; it counts what reached it. */
class Upstream {
  status = 503;
  reached = 0;
  /** When set, requests wait for the test to answer them. */
  held: ((r: UpstreamResponse) => void)[] | undefined;
  handler = () => {
    this.reached++;
    if (this.held) return new Promise<UpstreamResponse>((resolve) => this.held!.push(resolve));
    return { status: this.status, body: this.status < 400 ? 'fine' : 'broken' };
  };
}

const routes: Route[] = [
  { name: 'by-header', match: { prefix: '/', headers: [{ name: 'x-route-cluster', present: true }] }, clusterHeader: 'x-route-cluster' },
  { name: 'reviews', match: { prefix: '/' }, cluster: 'reviews' },
];

function breaker(configuration: object, upstream = new Upstream(), options: HostOptions = {}) {
  const host = new Host({ clusters: { reviews: upstream.handler, fallback: () => ({ status: 200, body: 'from the fallback' }) }, routes, ...options });
  closeAfterTest(host);
  host.addPlugin({ module: filterModule('circuit-breaker'), rootId: 'circuit-breaker', configuration });
  return { host, upstream };
}

const metric = (host: Host, key: string, what: string) => host.metrics.value(`circuit_breaker.circuit=.=${key};.;${what}`);
const stateHeader = (r: { headers: [string, string][] }) => r.headers.find(([k]) => k === 'x-circuit-state')?.[1];
const transitions = (host: Host) => host.logs.entries.map((e) => e.message).filter((m) => m.startsWith('circuit '));
const SECOND = 1000;

describe('circuit-breaker: the circuit', () => {
  it('opens after consecutive failures and answers without the upstream while open', async () => {
    const { host, upstream } = breaker({ trip: { consecutive_failures: 3 }, open: { duration: '5s' } });
    for (let i = 0; i < 3; i++) expect((await host.request()).status).toBe(503);
    expect(upstream.reached).toBe(3);
    const refused = await host.request();
    expect([refused.status, refused.body, stateHeader(refused), refused.responseCodeDetails]).toEqual([503, 'circuit open\n', 'open', 'circuit_breaker_open']);
    expect(upstream.reached).toBe(3);
    expect(metric(host, 'reviews', 'state')).toBe(1);
    expect(metric(host, 'reviews', 'trips')).toBe(1);
    expect(metric(host, 'reviews', 'short_circuited')).toBe(1);
    expect(transitions(host)).toEqual(['circuit reviews: closed -> open for 5s (trip 1)']);
  });

  it('a success in between resets the consecutive count', async () => {
    const { host, upstream } = breaker({ trip: { consecutive_failures: 3 } });
    await host.request();
    await host.request();
    upstream.status = 200;
    await host.request();
    upstream.status = 503;
    await host.request();
    await host.request();
    expect((await host.request()).body).toBe('broken');
    expect(upstream.reached).toBe(6);
  });

  it('half-opens when the open time is up, admits one probe at a time, and closes after enough successes', async () => {
    const { host, upstream } = breaker({ trip: { consecutive_failures: 2 }, open: { duration: '5s' }, half_open: { max_probes: 1, successes_to_close: 2 } });
    await host.request();
    await host.request();
    await host.advance(5 * SECOND);
    upstream.status = 200;
    upstream.held = [];
    const probe = host.startRequest();
    await host.idle();
    // While the probe is out, others get the fallback.
    const meanwhile = await host.request();
    expect([meanwhile.status, stateHeader(meanwhile)]).toEqual([503, 'open']);
    upstream.held.shift()!({ status: 200, body: 'fine' });
    const first = await host.wait(probe);
    expect([first.status, stateHeader(first)]).toEqual([200, 'half-open']);
    upstream.held = undefined;
    const second = await host.request();
    expect([second.status, stateHeader(second)]).toEqual([200, 'half-open']);
    const closed = await host.request();
    expect([closed.status, stateHeader(closed)]).toEqual([200, undefined]);
    expect(metric(host, 'reviews', 'probes')).toBe(2);
    expect(metric(host, 'reviews', 'state')).toBe(0);
    expect(transitions(host)).toEqual([
      'circuit reviews: closed -> open for 5s (trip 1)',
      'circuit reviews: open -> half-open',
      'circuit reviews: half-open -> closed',
    ]);
  });

  it('re-opens on a failed probe for twice as long each time, up to max_duration', async () => {
    const { host, upstream } = breaker({ trip: { consecutive_failures: 1 }, open: { duration: '5s', max_duration: '15s' } });
    await host.request();
    const probeAfter = async (ms: number) => {
      await host.advance(ms - 1);
      expect(stateHeader(await host.request())).toBe('open');
      await host.advance(1);
      return host.request();
    };
    expect(stateHeader(await probeAfter(5 * SECOND))).toBe('half-open');
    expect(stateHeader(await probeAfter(10 * SECOND))).toBe('half-open');
    expect(stateHeader(await probeAfter(15 * SECOND))).toBe('half-open');
    expect(stateHeader(await probeAfter(15 * SECOND))).toBe('half-open');
    expect(upstream.reached).toBe(5);
    expect(transitions(host).filter((t) => t.includes('-> open'))).toEqual([
      'circuit reviews: closed -> open for 5s (trip 1)', 'circuit reviews: half-open -> open for 10s (trip 2)',
      'circuit reviews: half-open -> open for 15s (trip 3)', 'circuit reviews: half-open -> open for 15s (trip 4)',
      'circuit reviews: half-open -> open for 15s (trip 5)',
    ]);
    // Closing forgets the trips: the next trip opens for the base time again.
    upstream.status = 200;
    await host.advance(15 * SECOND);
    await host.request();
    await host.request();
    upstream.status = 503;
    await host.request();
    expect(transitions(host).at(-1)).toBe('circuit reviews: closed -> open for 5s (trip 1)');
  });

  it('trips on a failure ratio over the rolling window once it has min_requests', async () => {
    const { host, upstream } = breaker({ trip: { failure_ratio: 0.5, window: '10s', min_requests: 10 } });
    // 5 failures in 9 requests: too few requests to judge.
    for (let i = 0; i < 9; i++) { upstream.status = i % 2 === 0 ? 503 : 200; await host.request(); }
    expect(metric(host, 'reviews', 'trips')).toBe(0);
    // Failures older than the window no longer count.
    await host.advance(11 * SECOND);
    upstream.status = 503;
    for (let i = 0; i < 4; i++) await host.request();
    upstream.status = 200;
    for (let i = 0; i < 5; i++) await host.request();
    expect(metric(host, 'reviews', 'trips')).toBe(0);
    upstream.status = 503;
    await host.request();
    expect(metric(host, 'reviews', 'trips')).toBe(1);
    expect(stateHeader(await host.request())).toBe('open');
  });

  it('keeps one circuit for all workers: failures on either trip it and both short-circuit', async () => {
    const { host, upstream } = breaker({ trip: { consecutive_failures: 4 } }, new Upstream(), { workers: 2 });
    for (let i = 0; i < 4; i++) await host.request({ worker: i % 2 });
    expect(upstream.reached).toBe(4);
    expect(stateHeader(await host.request({ worker: 0 }))).toBe('open');
    expect(stateHeader(await host.request({ worker: 1 }))).toBe('open');
    expect(upstream.reached).toBe(4);
    // One probe across both workers.
    await host.advance(5 * SECOND);
    upstream.held = [];
    const probe = host.startRequest({ worker: 0 });
    await host.idle();
    expect(stateHeader(await host.request({ worker: 1 }))).toBe('open');
    upstream.held.shift()!({ status: 200 });
    expect(stateHeader(await host.wait(probe))).toBe('half-open');
  });
});

describe('circuit-breaker: fallbacks', () => {
  it('answers with the configured local response, e.g. a cached document', async () => {
    const { host } = breaker({ trip: { consecutive_failures: 1 },
      fallback: { local_response: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"reviews":[],"degraded":true}' } } });
    await host.request();
    const r = await host.request();
    expect([r.status, r.body, stateHeader(r)]).toEqual([200, '{"reviews":[],"degraded":true}', 'open']);
    expect(r.headers).toContainEqual(['content-type', 'application/json']);
    expect(metric(host, 'reviews', 'fallbacks')).toBe(1);
  });

  it('routes to a fallback cluster through the cluster header, and does not count its answers', async () => {
    const { host, upstream } = breaker({ trip: { consecutive_failures: 2 }, fallback: { cluster: 'fallback' } });
    await host.request();
    await host.request();
    for (let i = 0; i < 3; i++) {
      const r = await host.request();
      expect([r.status, r.body, r.upstream?.cluster, stateHeader(r)]).toEqual([200, 'from the fallback', 'fallback', 'open']);
    }
    expect(upstream.reached).toBe(2);
    expect(metric(host, 'reviews', 'fallbacks')).toBe(3);
    // The fallback's successes did not close the circuit.
    expect(metric(host, 'reviews', 'state')).toBe(1);
  });

  it('with no state header configured, tells the client nothing but the fallback', async () => {
    const { host } = breaker({ trip: { consecutive_failures: 1 }, state_header: '' });
    await host.request();
    const r = await host.request();
    expect([r.status, stateHeader(r)]).toEqual([503, undefined]);
  });
});

describe('circuit-breaker: keys', () => {
  it('keeps a circuit per header value and per path prefix', async () => {
    const byHeader = breaker({ key: { source: 'header', header: 'x-api' }, trip: { consecutive_failures: 1 } });
    await byHeader.host.request({ headers: { 'x-api': 'search' } });
    expect(stateHeader(await byHeader.host.request({ headers: { 'x-api': 'search' } }))).toBe('open');
    expect(stateHeader(await byHeader.host.request({ headers: { 'x-api': 'cart' } }))).toBeUndefined();
    // A request without the key is not tracked.
    expect((await byHeader.host.request()).body).toBe('broken');

    const byPath = breaker({ key: { source: 'path_prefix', segments: 1 }, trip: { consecutive_failures: 1 } });
    await byPath.host.request({ path: '/search/items?q=1' });
    expect(stateHeader(await byPath.host.request({ path: '/search/other' }))).toBe('open');
    expect(stateHeader(await byPath.host.request({ path: '/cart/1' }))).toBeUndefined();
    expect(metric(byPath.host, '/search', 'trips')).toBe(1);
  });

  it('keys by the cluster an earlier filter re-routed to, read from its cluster header', async () => {
    const upstream = new Upstream();
    const host = new Host({ clusters: { reviews: () => ({ status: 200 }), canary: upstream.handler }, routes });
    closeAfterTest(host);
    host.addPlugin({ module: filterModule('header-routing'), rootId: 'header-routing',
      configuration: { rules: [{ name: 'canary', match: { headers: [{ name: 'x-canary', present: true }] }, targets: [{ cluster: 'canary' }] }] } });
    host.addPlugin({ module: filterModule('circuit-breaker'), rootId: 'circuit-breaker',
      configuration: { key: { source: 'cluster', header: 'x-route-cluster' }, trip: { consecutive_failures: 2 } } });
    await host.request({ headers: { 'x-canary': '1' } });
    await host.request({ headers: { 'x-canary': '1' } });
    expect(stateHeader(await host.request({ headers: { 'x-canary': '1' } }))).toBe('open');
    expect((await host.request()).status).toBe(200);
    expect(metric(host, 'canary', 'trips')).toBe(1);
  });
});

describe('circuit-breaker: what counts as a failure', () => {
  it('counts 5xx and upstream resets by default, not 4xx, and chosen statuses when listed', async () => {
    let answer: UpstreamResponse = { status: 404 };
    const host = new Host({ clusters: { reviews: () => answer }, routes });
    closeAfterTest(host);
    host.addPlugin({ module: filterModule('circuit-breaker'), rootId: 'circuit-breaker', configuration: { trip: { consecutive_failures: 2 }, failures: { statuses: [429] } } });
    await host.request();
    await host.request();
    expect(metric(host, 'reviews', 'trips')).toBe(0);
    answer = { status: 429 };
    await host.request();
    answer = { status: 0, reset: true };
    expect((await host.request()).status).toBe(503);
    expect(metric(host, 'reviews', 'trips')).toBe(1);
  });

  it('ignores a later filter\'s local reply unless local_replies is set', async () => {
    for (const localReplies of [false, true]) {
      const host = new Host({ clusters: { reviews: () => ({ status: 200 }) }, routes });
      closeAfterTest(host);
      host.addPlugin({ module: filterModule('circuit-breaker'), rootId: 'circuit-breaker', configuration: { trip: { consecutive_failures: 2 }, failures: { local_replies: localReplies } } });
      host.addPlugin({ module: filterModule('header-routing'), rootId: 'header-routing',
        configuration: { rules: [{ name: 'down', fault: { abort: { percentage: 100, http_status: 503 } }, targets: [{ cluster: 'reviews' }] }] } });
      await host.request();
      await host.request();
      expect(metric(host, 'reviews', 'trips')).toBe(localReplies ? 1 : 0);
    }
  });
});

describe('circuit-breaker: bounded state', () => {
  it('tracks at most max_keys circuits: a flood of new keys passes untracked and cannot evict an open circuit', async () => {
    const { host, upstream } = breaker({ key: { source: 'header', header: 'x-api' }, trip: { consecutive_failures: 1 }, max_keys: 8 });
    await host.request({ headers: { 'x-api': 'search' } });
    for (let i = 0; i < 200; i++) await host.request({ headers: { 'x-api': `junk-${i}` } });
    expect(host.metrics.value('circuit_breaker.untracked')).toBeGreaterThan(150);
    expect(stateHeader(await host.request({ headers: { 'x-api': 'search' } }))).toBe('open');
    // Per-key metric series stop growing at max_keys (plus the shared "other" series).
    const keys = new Set(host.metrics.all().map((m) => /circuit=\.=(.*?);\.;/.exec(m.name)?.[1]).filter(Boolean));
    expect(keys.size).toBeLessThanOrEqual(9);
    expect(upstream.reached).toBe(201);
  });

  it('does not track keys longer than 256 characters', async () => {
    const { host } = breaker({ key: { source: 'header', header: 'x-api' }, trip: { consecutive_failures: 1 } });
    const long = 'k'.repeat(300);
    await host.request({ headers: { 'x-api': long } });
    expect((await host.request({ headers: { 'x-api': long } })).body).toBe('broken');
    expect(host.metrics.value('circuit_breaker.untracked')).toBe(2);
  });
});

describe('circuit-breaker: configuration errors', () => {
  const cases: [string, object, RegExp][] = [
    ['an unknown key source', { key: { source: 'ip' } }, /key\.source: "ip" is not one of: cluster, route, header, path_prefix/],
    ['a header key without a header', { key: { source: 'header' } }, /key\.header: is required/],
    ['segments on a header key', { key: { source: 'header', header: 'x-api', segments: 2 } }, /key\.segments: applies only to the path_prefix source/],
    ['a trip with no rule', { trip: { window: '5s' } }, /trip: give consecutive_failures, failure_ratio or both/],
    ['a failure ratio above 1', { trip: { failure_ratio: 1.5 } }, /trip\.failure_ratio: must be between 0 and 1, got 1\.5/],
    ['a zero failure ratio', { trip: { failure_ratio: 0 } }, /trip\.failure_ratio: must be above 0/],
    ['an open time that is not a duration', { open: { duration: 'soon' } }, /open\.duration: "soon" is not a duration/],
    ['a cap below the open time', { open: { duration: '10s', max_duration: '5s' } }, /open\.max_duration: must not be shorter than open\.duration/],
    ['zero probes', { half_open: { max_probes: 0 } }, /half_open\.max_probes: must be between 1 and 1000, got 0/],
    ['both fallbacks', { fallback: { cluster: 'a', local_response: { status: 200 } } }, /fallback: give either local_response or cluster, not both/],
    ['a bad fallback header', { fallback: { local_response: { headers: { 'Bad Header': 'x' } } } }, /fallback\.local_response\.headers\.Bad Header/],
    ['a status outside 100-599', { failures: { statuses: [700] } }, /failures\.statuses\[0\]: expected an HTTP status from 100 to 599/],
    ['failures that count nothing', { failures: { http_5xx: false, upstream_errors: false } }, /failures: counts nothing as a failure/],
    ['an unknown field', { trip: { consecutive_failures: 1 }, breaker: true }, /breaker: unknown field/],
    ['a cluster_header without a cluster', { fallback: { cluster_header: 'x-c' } }, /fallback\.cluster_header: applies only with fallback\.cluster/],
  ];
  rejectsConfigurations('circuit-breaker', cases);
});
