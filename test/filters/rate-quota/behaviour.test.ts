// filters/rate-quota in host-sim: local quotas on a virtual clock, contention across workers,
// bounded memory, and global mode against a real rate limit service on loopback.
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../cli/build.js';
import { Host, type HostOptions, type StreamResult } from '../../../host-sim/index.js';
import { protoStruct } from '../../../host-sim/attributes.js';
import { filterModule } from '../../support/modules.js';
import { rejectsConfigurations } from '../../support/filters.js';
import { closeAfterTest } from '../../support/hosts.js';


function rateQuota(configuration: object, options: HostOptions = {}): Host {
  const host = new Host({
    node: { id: 'sidecar~10.0.0.2~ratings-v1.default', metadata: { LABELS: { app: 'ratings', version: 'v1' } } },
    ...options,
    clusters: { backend: () => ({ status: 200, body: 'ok' }), ...options.clusters },
  });
  closeAfterTest(host);
  host.addPlugin({ module: filterModule('rate-quota'), rootId: 'rate-quota', configuration });
  return host;
}

const header = (r: StreamResult, name: string) => r.headers.find(([k]) => k === name)?.[1];

/** Istio's memquota example, expressed in rate-quota's configuration. */
const memquota = {
  dimensions: {
    destination: [{ property: ['xds', 'node', 'metadata', 'LABELS', 'app'] }, { constant: 'unknown' }],
    source: [{ peer_label: 'app' }, { constant: 'unknown' }],
    sourceVersion: [{ peer_label: 'version' }, { constant: 'unknown' }],
  },
  quotas: [{
    name: 'requestcount',
    dimensions: ['destination', 'source', 'sourceVersion'],
    max_amount: 5000,
    valid_duration: '1s',
    overrides: [
      { dimensions: { destination: 'ratings', source: 'reviews', sourceVersion: 'v3' }, max_amount: 1, valid_duration: '5s' },
      { dimensions: { destination: 'ratings' }, max_amount: 5, valid_duration: '10s' },
    ],
  }],
};

/** A request from the reviews workload over mTLS, as its sidecar announces it in Istio's peer metadata. */
const fromReviews = (version: string) => ({
  tls: { peerCertificate: { uriSan: 'spiffe://cluster.local/ns/bookinfo/sa/reviews' } },
  headers: { 'x-envoy-peer-metadata': Buffer.from(protoStruct({ NAMESPACE: 'bookinfo', SERVICE_ACCOUNT: 'reviews', LABELS: { app: 'reviews', version } })).toString('base64') },
});

describe('rate-quota: the memquota example', () => {
  it('reviews v3 -> ratings: 1 request per 5 s, refilled at exactly 5 s', async () => {
    const host = rateQuota(memquota);
    const first = await host.request(fromReviews('v3'));
    expect(first.status).toBe(200);
    expect(header(first, 'x-ratelimit-limit')).toBe('1, 1;w=5');
    expect(header(first, 'x-ratelimit-remaining')).toBe('0');
    expect(header(first, 'x-ratelimit-reset')).toBe('5');
    const second = await host.request(fromReviews('v3'));
    expect(second.status).toBe(429);
    expect(header(second, 'retry-after')).toBe('5');
    expect(header(second, 'x-ratelimit-remaining')).toBe('0');
    expect(second.localReply).toMatchObject({ details: 'local_rate_limited', plugin: 'rate-quota' });
    await host.advance(4_999);
    expect((await host.request(fromReviews('v3'))).status).toBe(429);
    await host.advance(1);
    expect((await host.request(fromReviews('v3'))).status).toBe(200);
  });

  it('any other source -> ratings: 5 per 10 s (the destination override)', async () => {
    const host = rateQuota(memquota);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await host.request(fromReviews('v2'))).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    // A token comes back every 2 s; the v3 key is separate from the v2 key.
    expect((await host.request(fromReviews('v3'))).status).toBe(200);
    await host.advance(2_000);
    expect((await host.request(fromReviews('v2'))).status).toBe(200);
    expect((await host.request(fromReviews('v2'))).status).toBe(429);
  });

  it('other destinations: the default 5000 per second', async () => {
    const host = rateQuota(memquota, { node: { metadata: { LABELS: { app: 'details' } } } });
    let allowed = 0;
    for (let i = 0; i < 5001; i++) if ((await host.request(fromReviews('v3'))).status === 200) allowed++;
    expect(allowed).toBe(5000);
  });
});

describe('rate-quota: fixed windows, responses and metrics', () => {
  const perMinute = (extra: object = {}) => ({
    dimensions: { user: { header: 'x-user' } },
    quotas: [{ name: 'per_user', dimensions: ['user'], max_amount: 3, valid_duration: '60s', algorithm: 'fixed_window', ...extra }],
  });

  it('counts in windows aligned to the clock and resets at the window edge', async () => {
    const host = rateQuota(perMinute());
    const user = { headers: { 'x-user': 'alice' } };
    const msIntoWindow = host.clock.now() % 60_000;
    expect(msIntoWindow).toBe(0);
    await host.advance(59_000);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await host.request(user)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const denied = await host.request(user);
    expect(header(denied, 'retry-after')).toBe('1');
    expect(header(denied, 'x-ratelimit-reset')).toBe('1');
    await host.advance(1_000);
    expect((await host.request(user)).status).toBe(200);
    expect((await host.request({ headers: { 'x-user': 'bob' } })).status).toBe(200);
  });

  it('does not apply a quota whose dimension has no value', async () => {
    const host = rateQuota(perMinute());
    for (let i = 0; i < 5; i++) expect((await host.request()).status).toBe(200);
  });

  it('uses the configured deny response and can leave the headers off allowed responses', async () => {
    const host = rateQuota({ ...perMinute(), response_headers: false,
      deny_response: { status: 503, body: 'slow down', headers: { 'x-quota': 'per_user' } } });
    const user = { headers: { 'x-user': 'carol' } };
    const allowed = await host.request(user);
    expect(header(allowed, 'x-ratelimit-limit')).toBeUndefined();
    await host.request(user);
    await host.request(user);
    const denied = await host.request(user);
    expect(denied.status).toBe(503);
    expect(denied.body).toBe('slow down');
    expect(header(denied, 'x-quota')).toBe('per_user');
    expect(header(denied, 'x-ratelimit-limit')).toBe('3, 3;w=60');
  });

  it('counts allowed and denied requests per quota', async () => {
    const host = rateQuota(perMinute());
    for (let i = 0; i < 5; i++) await host.request({ headers: { 'x-user': 'dave' } });
    expect(host.metrics.value('rate_quota.per_user.allowed')).toBe(3);
    expect(host.metrics.value('rate_quota.per_user.denied')).toBe(2);
    expect(host.metrics.value('rate_quota.per_user.shadow_denied')).toBe(0);
  });

  it('shadow mode counts what it would deny and never denies', async () => {
    const host = rateQuota(perMinute({ shadow: true }));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await host.request({ headers: { 'x-user': 'erin' } })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect(host.metrics.value('rate_quota.per_user.shadow_denied')).toBe(2);
    expect(host.metrics.value('rate_quota.per_user.denied')).toBe(0);
    // A quota that enforces nothing tells the client nothing.
    expect(header(await host.request({ headers: { 'x-user': 'erin' } }), 'x-ratelimit-remaining')).toBeUndefined();
  });
});

describe('rate-quota: dimension sources', () => {
  const quota = (dimension: unknown) => ({
    dimensions: { d: dimension },
    quotas: [{ name: 'q', dimensions: ['d'], max_amount: 1, valid_duration: '1m' }],
  });
  /** True when the second request with `spec` is denied, i.e. the dimension produced a key. */
  async function keyed(dimension: unknown, spec: Parameters<Host['request']>[0]): Promise<boolean> {
    const host = rateQuota(quota(dimension));
    await host.request(spec);
    return (await host.request(spec)).status === 429;
  }

  it('reads headers, the method and constants', async () => {
    expect(await keyed({ header: 'x-api-key' }, { headers: { 'x-api-key': 'k' } })).toBe(true);
    expect(await keyed({ header: 'x-api-key' }, {})).toBe(false);
    expect(await keyed({ method: true }, { method: 'POST' })).toBe(true);
    expect(await keyed({ constant: 'all' }, {})).toBe(true);
  });

  it('matches the path exactly, by prefix or by regex, ignoring the query', async () => {
    expect(await keyed({ path: { exact: '/login' } }, { path: '/login?next=/' })).toBe(true);
    expect(await keyed({ path: { exact: '/login' } }, { path: '/login/x' })).toBe(false);
    expect(await keyed({ path: { prefix: '/api/' } }, { path: '/api/users' })).toBe(true);
    expect(await keyed({ path: { regex: '/users/[0-9]+' }, value: 'user-by-id' }, { path: '/users/42' })).toBe(true);
    expect(await keyed({ path: { regex: '/users/[0-9]+' } }, { path: '/users/abc' })).toBe(false);
  });

  it('keys by source address or CIDR range', async () => {
    expect(await keyed({ source_address: true }, { source: '192.168.1.7:4000' })).toBe(true);
    expect(await keyed({ source_cidr: ['10.0.0.0/8', '2001:db8::/32'] }, { source: '10.20.30.40:1' })).toBe(true);
    expect(await keyed({ source_cidr: '2001:db8::/32' }, { source: '[2001:db8::5]:443' })).toBe(true);
    expect(await keyed({ source_cidr: '10.0.0.0/8' }, { source: '11.0.0.1:1' })).toBe(false);
  });

  it('separates keys: two source addresses get a token each', async () => {
    const host = rateQuota(quota({ source_address: true }));
    expect((await host.request({ source: '10.0.0.1:1' })).status).toBe(200);
    expect((await host.request({ source: '10.0.0.2:1' })).status).toBe(200);
    expect((await host.request({ source: '10.0.0.1:2' })).status).toBe(429);
  });
});

describe('rate-quota: workers and contention', () => {
  const shared = { dimensions: { all: { constant: 'x' } }, quotas: [{ name: 'global', dimensions: ['all'], max_amount: 50, valid_duration: '1s', algorithm: 'fixed_window' }] };

  it('never admits more than the limit per window across 4 workers', async () => {
    const host = rateQuota(shared, { workers: 4 });
    for (let window = 0; window < 5; window++) {
      // 4 workers, streams started together so their callbacks interleave.
      const streams = Array.from({ length: 120 }, (_, i) => host.startRequest({ worker: i % 4 }));
      const results = await Promise.all(streams.map((s) => host.wait(s)));
      expect(results.filter((r) => r.status === 200)).toHaveLength(50);
      await host.advance(1_000);
    }
  });

  it('retries when another worker wrote first (CAS mismatch) and still counts exactly', async () => {
    const host = rateQuota(shared, { workers: 4 });
    host.shared.injectConflicts(5);
    let allowed = 0;
    for (let i = 0; i < 60; i++) if ((await host.request()).status === 200) allowed++;
    expect(allowed).toBe(50);
    expect(host.metrics.value('rate_quota.cas_exhausted')).toBe(0);
  });

  it('allows (by default) and counts when CAS retries run out', async () => {
    const host = rateQuota({ ...shared, cas_retries: 3 });
    host.shared.injectConflicts(3);
    const r = await host.request();
    expect(r.status).toBe(200);
    expect(host.metrics.value('rate_quota.cas_exhausted')).toBe(1);
    expect(host.logs.messages('warn').join('\n')).toMatch(/3 CAS retries exhausted; request allowed/);
  });

  it('denies instead when on_contention is "deny"', async () => {
    const host = rateQuota({ ...shared, cas_retries: 2, on_contention: 'deny' });
    host.shared.injectConflicts(2);
    expect((await host.request()).status).toBe(429);
  });

  it('keeps memory bounded: a fixed table of slots, idle keys reused, keys beyond it sharing one overflow bucket', async () => {
    const host = rateQuota({ dimensions: { user: { header: 'x-user' } }, max_keys: 16,
      quotas: [{ name: 'q', dimensions: ['user'], max_amount: 1, valid_duration: '10s' }] });
    const keysBefore = host.shared.keys('').length;
    // 16 slots, the overflow bucket, the table marker and the deployment secret.
    expect(keysBefore).toBe(19);
    const statuses: number[] = [];
    for (let i = 0; i < 500; i++) statuses.push((await host.request({ headers: { 'x-user': `user-${i}` } })).status);
    expect(host.shared.keys('').length).toBe(keysBefore);
    expect(host.metrics.value('rate_quota.overflow')).toBeGreaterThan(0);
    // Keys without a slot of their own share the overflow bucket's one request per 10 s.
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(17);
    // Once every bucket has refilled, slots are reused and new keys get their own again.
    await host.advance(10_000);
    const overflows = host.metrics.value('rate_quota.overflow');
    for (let i = 0; i < 4; i++) expect((await host.request({ headers: { 'x-user': `late-${i}` } })).status).toBe(200);
    expect(host.metrics.value('rate_quota.overflow')).toBe(overflows);
  });
});

describe('rate-quota: configuration errors name the field', () => {
  const base = { dimensions: { user: { header: 'x-user' } }, quotas: [{ name: 'q', dimensions: ['user'], max_amount: 1, valid_duration: '1s' }] };
  const cases: [string, object, RegExp][] = [
    ['a zero limit', { ...base, quotas: [{ ...base.quotas[0], max_amount: 0 }] }, /quotas\[0\]\.max_amount: must be between 1 and 1000000000, got 0/],
    ['a negative limit', { ...base, quotas: [{ ...base.quotas[0], max_amount: -5 }] }, /quotas\[0\]\.max_amount: must be between 1/],
    ['a zero window', { ...base, quotas: [{ ...base.quotas[0], valid_duration: '0s' }] }, /quotas\[0\]\.valid_duration: must be longer than zero/],
    ['a window that is not a duration', { ...base, quotas: [{ ...base.quotas[0], valid_duration: 'soon' }] }, /quotas\[0\]\.valid_duration: "soon" is not a duration/],
    ['an unknown dimension source', { ...base, dimensions: { user: { cookie: 'id' } } }, /dimensions\.user\.cookie: unknown dimension source/],
    ['an empty peer label', { ...base, dimensions: { user: { peer_label: '' } } }, /dimensions\.user\.peer_label: expected a label name, e.g. "app"/],
    ['a bad regex', { ...base, dimensions: { user: { path: { regex: '/users/(' } } } }, /dimensions\.user\.path\.regex: invalid regex: missing closing \) at position 7/],
    ['a bad CIDR', { ...base, dimensions: { user: { source_cidr: ['10.0.0.0/33'] } } }, /dimensions\.user\.source_cidr: "10\.0\.0\.0\/33" is not a CIDR range/],
    ['an override naming an undeclared dimension', { ...base, quotas: [{ ...base.quotas[0], overrides: [{ dimensions: { team: 'a' }, max_amount: 2 }] }] },
      /quotas\[0\]\.overrides\[0\]\.dimensions\.team: is not a dimension of quota "q"/],
    ['a quota naming an undeclared dimension', { ...base, quotas: [{ ...base.quotas[0], dimensions: ['team'] }] }, /quotas\[0\]\.dimensions\[0\]: "team" is not a declared dimension \(declared: user\)/],
    ['an unknown field', { ...base, quota: [] }, /quota: unknown field/],
    ['global mode without a service', { ...base, mode: 'global' }, /rate_limit_service: is required/],
  ];
  rejectsConfigurations('rate-quota', cases);
});

// ---- global mode: a real gRPC rate limit service on loopback -----------------------------------

const envoyApi = join(ROOT, 'node_modules', '@grpc', 'grpc-js-xds', 'deps');
interface RlsCall { domain: string; descriptors: { entries: { key: string; value: string }[] }[] }
const seen: RlsCall[] = [];
let answer: (call: RlsCall) => object | Promise<object> = () => ({ overall_code: 'OK' });
let server: grpc.Server;
let port = 0;

beforeAll(async () => {
  const definition = protoLoader.loadSync('envoy/service/ratelimit/v3/rls.proto', {
    includeDirs: ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(envoyApi, d)),
    keepCase: true, enums: String, longs: Number, defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { envoy: { service: { ratelimit: { v3: { RateLimitService: { service: grpc.ServiceDefinition } } } } } };
  server = new grpc.Server();
  server.addService(pkg.envoy.service.ratelimit.v3.RateLimitService.service, {
    ShouldRateLimit: async (call: grpc.ServerUnaryCall<RlsCall, object>, callback: grpc.sendUnaryData<object>) => {
      seen.push(call.request);
      callback(null, await answer(call.request));
    },
  });
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
});

afterAll(async () => { await new Promise<void>((resolve) => server.tryShutdown(() => resolve())); });

const globalConfig = (service: object = {}) => ({
  ...memquota,
  mode: 'global',
  rate_limit_service: { cluster: 'ratelimit', domain: 'mesh', timeout: '100ms', ...service },
});

describe('rate-quota: global mode against a rate limit service', () => {
  it('sends the quota\'s descriptor and allows, adding the headers the service asks for', async () => {
    answer = () => ({
      overall_code: 'OK',
      statuses: [{ code: 'OK', current_limit: { requests_per_unit: 5, unit: 'MINUTE' }, limit_remaining: 4, duration_until_reset: { seconds: 42 } }],
      request_headers_to_add: [{ key: 'x-ratelimit-checked', value: 'yes' }],
      response_headers_to_add: [{ key: 'x-served-by-rls', value: 'mesh' }],
    });
    const host = rateQuota(globalConfig(), { clusters: { ratelimit: `http://127.0.0.1:${port}` } });
    const r = await host.request(fromReviews('v3'));
    expect(r.status).toBe(200);
    const call = seen.at(-1)!;
    expect(call.domain).toBe('mesh');
    expect(call.descriptors.map((d) => d.entries)).toEqual([[
      { key: 'quota', value: 'requestcount' }, { key: 'destination', value: 'ratings' },
      { key: 'source', value: 'reviews' }, { key: 'sourceVersion', value: 'v3' }]]);
    expect(r.upstream!.headers).toContainEqual(['x-ratelimit-checked', 'yes']);
    expect(header(r, 'x-served-by-rls')).toBe('mesh');
    expect(header(r, 'x-ratelimit-limit')).toBe('5, 5;w=60');
    expect(header(r, 'x-ratelimit-remaining')).toBe('4');
    expect(header(r, 'x-ratelimit-reset')).toBe('42');
  });

  it('denies with 429 when the service says OVER_LIMIT', async () => {
    answer = () => ({
      overall_code: 'OVER_LIMIT',
      statuses: [{ code: 'OVER_LIMIT', current_limit: { requests_per_unit: 1, unit: 'SECOND' }, limit_remaining: 0, duration_until_reset: { nanos: 300_000_000 } }],
      response_headers_to_add: [{ key: 'x-envoy-ratelimited', value: 'true' }],
    });
    const host = rateQuota(globalConfig(), { clusters: { ratelimit: `http://127.0.0.1:${port}` } });
    const r = await host.request(fromReviews('v3'));
    expect(r.status).toBe(429);
    expect(r.localReply!.details).toBe('request_rate_limited');
    expect(header(r, 'x-envoy-ratelimited')).toBe('true');
    expect(header(r, 'x-ratelimit-limit')).toBe('1, 1;w=1');
    expect(header(r, 'retry-after')).toBe('1');
    expect(host.metrics.value('rate_quota.requestcount.denied')).toBe(1);
  });

  it('denies on an overall OVER_LIMIT without statuses, without inventing limits; shadow quotas still allow', async () => {
    answer = () => ({ overall_code: 'OVER_LIMIT' });
    const host = rateQuota(globalConfig(), { clusters: { ratelimit: `http://127.0.0.1:${port}` } });
    const r = await host.request(fromReviews('v3'));
    expect(r.status).toBe(429);
    expect(header(r, 'x-ratelimit-limit')).toBeUndefined();
    expect(header(r, 'retry-after')).toBe('1');
    const shadow = rateQuota({ ...globalConfig(), quotas: globalConfig().quotas.map((q) => ({ ...q, shadow: true })) },
      { clusters: { ratelimit: `http://127.0.0.1:${port}` } });
    const allowed = await shadow.request(fromReviews('v3'));
    expect(allowed.status).toBe(200);
    expect(header(allowed, 'x-ratelimit-limit')).toBeUndefined();
    expect(shadow.metrics.value('rate_quota.requestcount.shadow_denied')).toBe(1);
  });

  it('allows when the service is down, or answers status_on_error with failure_mode_deny', async () => {
    const down = rateQuota(globalConfig(), { clusters: { ratelimit: 'http://127.0.0.1:1' } });
    expect((await down.request(fromReviews('v3'))).status).toBe(200);
    expect(down.metrics.value('rate_quota.rate_limit_service_errors')).toBe(1);
    const strict = rateQuota(globalConfig({ failure_mode_deny: true }), { clusters: { ratelimit: 'http://127.0.0.1:1' } });
    const r = await strict.request(fromReviews('v3'));
    expect(r.status).toBe(500);
    expect(r.localReply!.details).toBe('rate_limit_service_error');
  });

  it('applies the failure mode when the service is slower than the timeout', async () => {
    const slow = rateQuota(globalConfig({ timeout: '50ms', failure_mode_deny: true }), { clusters: { ratelimit: { grpc: () => ({ hang: true }) } } });
    const r = await slow.request(fromReviews('v3'), { advanceClock: true });
    expect(r.status).toBe(500);
    expect(slow.clock.now() - Date.UTC(2026, 0, 1)).toBe(50);
    expect(slow.logs.messages('warn').join('\n')).toMatch(/gRPC status 4/);
  });
});
