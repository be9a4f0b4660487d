// The router's timeouts and retries as a filter asks for them through x-envoy-* request headers,
// on the virtual clock (the Envoy tier checks the same behaviour in real Envoy: scenarios/router).
import { describe, expect, it } from 'vitest';
import type { UpstreamRequest, UpstreamResponse } from '../../host-sim/index.js';
import { filterModule } from '../support/modules.js';
import { newHost } from '../support/hosts.js';

/** An upstream answering from a script, one entry per arrival (then 200 "ok"); `hang` never answers. */
function scripted(script: (UpstreamResponse | 'hang')[]) {
  const seen: UpstreamRequest[] = [];
  const handler = (request: UpstreamRequest) => {
    const next = script[seen.length] ?? { status: 200, body: 'ok' };
    seen.push(request);
    return next === 'hang' ? new Promise<UpstreamResponse>(() => {}) : next;
  };
  return { seen, handler };
}

function hostAsking(headers: Record<string, string>, script: (UpstreamResponse | 'hang')[]) {
  const upstream = scripted(script);
  const host = newHost({ clusters: { backend: upstream.handler } });
  host.addPlugin({ module: filterModule('add-header'), rootId: 'add-header', configuration: JSON.stringify({ request_headers: headers }) });
  return { host, seen: upstream.seen };
}

const header = (r: UpstreamRequest, name: string) => r.headers.find(([k]) => k === name)?.[1];

describe('router retries', () => {
  it('retries a 5xx up to x-envoy-max-retries and removes the retry headers before forwarding', async () => {
    const { host, seen } = hostAsking({ 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '2' }, [{ status: 503 }, { status: 500 }]);
    const r = await host.request({}, { advanceClock: true });
    expect(r.status).toBe(200);
    expect(r.upstream!.attempts).toBe(3);
    expect(seen).toHaveLength(3);
    for (const request of seen) {
      expect(header(request, 'x-envoy-retry-on')).toBeUndefined();
      expect(header(request, 'x-envoy-max-retries')).toBeUndefined();
    }
  });

  it('gives the client the last answer when the retries are spent', async () => {
    const { host, seen } = hostAsking({ 'x-envoy-retry-on': 'gateway-error', 'x-envoy-max-retries': '1' },
      [{ status: 503, body: 'first' }, { status: 503, body: 'second' }, { status: 500, body: 'not a gateway error' }]);
    const spent = await host.request({}, { advanceClock: true });
    expect([spent.status, spent.body, seen.length]).toEqual([503, 'second', 2]);
    const other = await host.request({}, { advanceClock: true });
    expect([other.status, other.body, seen.length]).toEqual([500, 'not a gateway error', 3]);
  });

  it('never retries without a retry-on condition, nor an answer the upstream marks rate limited', async () => {
    const none = hostAsking({ 'x-envoy-max-retries': '3' }, [{ status: 503 }]);
    expect((await none.host.request({}, { advanceClock: true })).status).toBe(503);
    expect(none.seen).toHaveLength(1);
    const limited = hostAsking({ 'x-envoy-retry-on': '5xx' }, [{ status: 503, headers: { 'x-envoy-ratelimited': 'true' } }]);
    expect((await limited.host.request({}, { advanceClock: true })).status).toBe(503);
    expect(limited.seen).toHaveLength(1);
  });

  it('retries the status codes x-envoy-retriable-status-codes names under retriable-status-codes', async () => {
    const { host, seen } = hostAsking({ 'x-envoy-retry-on': 'retriable-status-codes', 'x-envoy-retriable-status-codes': '429', 'x-envoy-max-retries': '3' },
      [{ status: 429 }, { status: 409 }]);
    const r = await host.request({}, { advanceClock: true });
    expect([r.status, seen.length]).toEqual([409, 2]);
    expect(header(seen[0], 'x-envoy-retriable-status-codes')).toBeUndefined();
  });

  it('abandons an attempt at the per-try timeout, retries, and tells each attempt its time', async () => {
    const { host, seen } = hostAsking({ 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '1', 'x-envoy-upstream-rq-per-try-timeout-ms': '200' },
      ['hang', { status: 200, body: 'retried' }]);
    const started = host.now();
    const r = await host.request({}, { advanceClock: true });
    expect([r.status, r.body]).toEqual([200, 'retried']);
    expect(host.now() - started).toBeGreaterThanOrEqual(200);
    expect(host.now() - started).toBeLessThan(200 + 25);
    expect(seen.map((s) => header(s, 'x-envoy-expected-rq-timeout-ms'))).toEqual(['200', '200']);
  });

  it('answers 504 when every attempt times out, and the route timeout bounds retries and back-off', async () => {
    const perTry = hostAsking({ 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '2', 'x-envoy-upstream-rq-per-try-timeout-ms': '100' }, ['hang', 'hang', 'hang']);
    const r = await perTry.host.request({}, { advanceClock: true });
    expect([r.status, r.body, r.responseCodeDetails, perTry.seen.length]).toEqual([504, 'upstream request timeout', 'upstream_per_try_timeout', 3]);

    const route = hostAsking({ 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '5', 'x-envoy-upstream-rq-per-try-timeout-ms': '100', 'x-envoy-upstream-rq-timeout-ms': '250' },
      ['hang', 'hang', 'hang', 'hang', 'hang', 'hang']);
    const started = route.host.now();
    const bounded = await route.host.request({}, { advanceClock: true });
    expect([bounded.status, bounded.responseCodeDetails]).toEqual([504, 'upstream_response_timeout']);
    expect(route.host.now() - started).toBe(250);
    expect(route.seen.length).toBeLessThanOrEqual(3);
    // A retry is told the time left of the route's 250 ms when that is less than the per-try timeout.
    const announced = route.seen.map((s) => Number(header(s, 'x-envoy-expected-rq-timeout-ms')));
    expect(announced[0]).toBe(100);
    expect(announced.every((ms) => ms <= 100)).toBe(true);
  });

  it('retries a reset under reset, and says so in the 503 when the retries run out', async () => {
    const { host, seen } = hostAsking({ 'x-envoy-retry-on': 'reset', 'x-envoy-max-retries': '1' }, [{ status: 0, reset: true }, { status: 0, reset: true }]);
    const r = await host.request({}, { advanceClock: true });
    expect([r.status, seen.length]).toEqual([503, 2]);
    expect(r.body).toBe('upstream connect error or disconnect/reset before headers. retried and the latest reset reason: remote reset');
  });

  it('waits a jittered back-off below 25 ms before the first retry', async () => {
    const { host, seen } = hostAsking({ 'x-envoy-retry-on': '5xx' }, [{ status: 503 }]);
    const at: number[] = [];
    const original = host.upstream.bind(host);
    host.upstream = (request) => { at.push(host.now()); return original(request); };
    await host.request({}, { advanceClock: true });
    expect(seen).toHaveLength(2);
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(0);
    expect(at[1] - at[0]).toBeLessThan(25);
  });
});
