// The SDK's API, exercised by modules it built, running in host-sim.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Host, type HostOptions, type StreamResult } from '../host-sim/index.js';
import { filterModule, fixtureModule } from './support/modules.js';
import { closeAfterTest } from './support/hosts.js';


function probeHost(options: HostOptions = {}, configuration: object = {}): Host {
  const host = new Host({
    node: { id: 'node-1', metadata: { LABELS: { app: 'ratings', version: 'v1' } } },
    clusters: {
      backend: (req) => ({ status: 200, headers: { 'x-backend': '1' }, body: new TextDecoder().decode(req.body) || 'ok' }),
      ...options.clusters,
    },
    ...options,
  });
  closeAfterTest(host);
  host.addPlugin({ module: fixtureModule('sdk-probe'), rootId: 'probe', configuration });
  return host;
}

const header = (r: StreamResult, name: string) => r.headers.find(([k]) => k === name)?.[1];

describe('SDK: properties', () => {
  it('decodes strings, ints, bools, maps and node metadata, and writes filter state', async () => {
    const host = probeHost();
    const r = await host.request({ path: '/p?q=1', headers: { 'x-probe': 'properties', a: '1' }, source: '10.1.2.3:4567' });
    expect(header(r, 'x-prop-path')).toBe('/p?q=1');
    expect(header(r, 'x-prop-root-id')).toBe('probe');
    expect(header(r, 'x-prop-source-port')).toBe('4567');
    expect(header(r, 'x-prop-mtls')).toBe('false');
    expect(header(r, 'x-prop-node-app')).toBe('ratings');
    expect(header(r, 'x-prop-header-count')).toBe('4');   // x-probe, x-forwarded-proto, ...
    expect(header(r, 'x-prop-missing')).toBe('null');
    expect(header(r, 'x-set-property')).toBe('0');
    expect(header(r, 'x-get-set-property')).toBe('yes');
    expect(new TextDecoder().decode(r.filterState.get('wasm.probe_seen'))).toBe('yes');
  });
});

describe('SDK: header maps', () => {
  it('reads pairs lazily, gets, adds repeated values and removes', async () => {
    const host = probeHost();
    const r = await host.request({ headers: { 'x-probe': 'headers', 'x-remove-me': 'x' } });
    // Upstream: the probe removed one header and added two; the router added x-envoy-expected-rq-timeout-ms.
    expect(Number(header(r, 'x-pairs-count'))).toBe(r.upstream!.headers.length + 1 - 2 - 1);
    expect(header(r, 'x-pairs-first-key')).toBe(':authority');
    expect(header(r, 'x-get-missing')).toBe('null');
    expect(Number(header(r, 'x-header-bytes'))).toBeGreaterThan(20);
    expect(r.upstream!.headers.filter(([k]) => k === 'x-added')).toEqual([['x-added', '1'], ['x-added', '2']]);
    expect(r.upstream!.headers.some(([k]) => k === 'x-remove-me')).toBe(false);
  });

  it('cannot reach request headers once they went upstream', async () => {
    const host = probeHost();
    const r = await host.request();
    expect(header(r, 'x-request-headers-after-continue')).toBe('unreachable');
    expect(header(r, 'x-seen-eos')).toBe('1');
  });
});

describe('SDK: bodies', () => {
  const cases: [string, string, string][] = [
    ['upper', 'hello', 'HELLO'],
    ['prepend', 'hello', '>>hello'],
    ['append', 'hello', 'hello<<'],
  ];
  for (const [mode, body, expected] of cases) {
    it(`buffers chunks and ${mode}s the body with set_buffer_bytes`, async () => {
      const host = probeHost();
      const r = await host.request({ method: 'POST', headers: { 'x-probe': 'body', 'x-probe-body-mode': mode }, body: [body.slice(0, 2), body.slice(2)] });
      expect(header(r, 'x-body-seen')).toBe(body);
      expect(new TextDecoder().decode(r.upstream!.body)).toBe(expected);
    });
  }

  it('refuses to replace the middle of a body (BadArgument)', async () => {
    const host = probeHost();
    const r = await host.request({ method: 'POST', headers: { 'x-probe': 'body', 'x-probe-body-mode': 'middle' }, body: 'abc' });
    expect(header(r, 'x-body-middle')).toBe('2');
    expect(new TextDecoder().decode(r.upstream!.body)).toBe('abc');
  });
});

describe('SDK: shared data and queues', () => {
  it('increments a counter across workers with CAS and rejects a stale CAS', async () => {
    const host = probeHost({ workers: 3 });
    const values: string[] = [];
    for (let i = 0; i < 6; i++) values.push(header(await host.request({ headers: { 'x-probe': 'shared' } }), 'x-shared-value')!);
    expect(values).toEqual(['1', '2', '3', '4', '5', '6']);
    const r = await host.request({ headers: { 'x-probe': 'shared' } });
    expect(header(r, 'x-shared-stale-cas')).toBe('8');
  });

  it('wakes the registering VM through on_queue_ready', async () => {
    const host = probeHost();
    await host.request({ headers: { 'x-probe': 'queue' } });
    const r = await host.request({ headers: { 'x-probe': 'queue' } });
    expect(header(r, 'x-queue-resolve')).toBe('0');
    // The first request's message was already delivered when the second looked.
    expect(Number(header(r, 'x-queue-dequeued'))).toBeGreaterThanOrEqual(1);
    expect(header(r, 'x-queue-last')).toBe('hello queue');
    expect(header(r, 'x-queue-unknown')).toBe('1');
  });
});

describe('SDK: metrics, timers, time and logs', () => {
  it('defines counters, gauges and histograms, and counters refuse a zero increment', async () => {
    const host = probeHost();
    await host.request();
    const r = await host.request({ headers: { 'x-probe': 'metrics' } });
    expect(header(r, 'x-metric-requests')).toBe('2');
    expect(header(r, 'x-metric-zero-increment')).toBe('2');
    expect(host.metrics.value('probe.requests')).toBe(2);
    expect(host.metrics.value('probe.inflight')).toBe(0);
    expect(host.metrics.find('probe.request_bytes')!.samples).toEqual([123]);
    expect(host.prometheus()).toContain('probe_requests 2');
  });

  it('ticks on the virtual clock', async () => {
    const host = probeHost({}, { tick_ms: 100 });
    await host.advance(350);
    const r = await host.request({ headers: { 'x-probe': 'metrics' } });
    // Three ticks each on the worker's VM and on the main thread's (Envoy ticks both).
    expect(header(r, 'x-metric-ticks')).toBe('6');
  });

  it('reads time from the virtual clock and randomness from WASI', async () => {
    const host = probeHost();
    await host.advance(1234);
    const r = await host.request({ headers: { 'x-probe': 'time' } });
    expect(Number(header(r, 'x-time-ms'))).toBe(host.clock.now());
    expect(header(r, 'x-random-differs')).toBe('yes');
    expect(header(r, 'x-math-random')).toBe('ok');
  });

  it('computes SHA-256 and HMAC-SHA256 as Node does, across the padding boundaries', async () => {
    const host = probeHost();
    // 55, 56 and 64 bytes: one padded block, the length spilling into a second, a whole block.
    const lengths = [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 300];
    const keys = ['k', 'a'.repeat(64), 'b'.repeat(65)];
    for (const [i, length] of lengths.entries()) {
      const text = 'αx'.repeat(length).slice(0, length);
      const key = keys[i % keys.length];
      const r = await host.request({ headers: { 'x-probe': 'sha256', 'x-probe-text': text, 'x-probe-key': key } });
      expect(header(r, 'x-sha256'), `${length} characters`).toBe(createHash('sha256').update(text).digest('hex'));
      expect(header(r, 'x-hmac'), `${length} characters`).toBe(createHmac('sha256', key).update(text).digest('hex'));
    }
  });

  it('reads each header value right while values recur and displace each other in the SDK\'s decoded-value cache', async () => {
    const host = probeHost();
    // 48 recurring values over 32 slots: hits, misses, second sightings and evictions.
    for (let i = 0; i < 300; i++) {
      const text = `value-${(i * 7) % 48}`;
      const r = await host.request({ headers: { 'x-probe': 'sha256', 'x-probe-text': text, 'x-probe-key': 'k' } });
      expect(header(r, 'x-sha256'), text).toBe(createHash('sha256').update(text).digest('hex'));
    }
  });

  it('skips messages below the host log level', async () => {
    const host = probeHost({ logLevel: 'info' });
    const r = await host.request({ headers: { 'x-probe': 'log' } });
    expect(header(r, 'x-log-debug-enabled')).toBe('no');
    expect(host.logs.messages('warn')).toContain('probe warn message');
    expect(host.logs.messages('debug')).toEqual([]);
    expect(host.logs.messages('info')).toContain('probe access log: / 200');
  });

  it('rejects a configuration the filter refuses, with its log in the error', () => {
    expect(() => probeHost({}, { reject: true })).toThrow(/proxy_on_configure returned false.*configuration asks to be rejected/);
  });
});

describe('SDK: callouts and local replies', () => {
  it('pauses for an http call and continues with what it returned', async () => {
    const host = probeHost({ clusters: { auth: () => ({ status: 200, body: 'user=alice' }) } });
    const r = await host.request({ headers: { 'x-probe': 'http-call', 'x-probe-cluster': 'auth' } });
    expect(r.status).toBe(200);
    expect(r.upstream!.headers).toContainEqual(['x-auth-body', 'user=alice']);
    expect(host.callouts[0]).toMatchObject({ kind: 'http', cluster: 'auth', outcome: '200' });
  });

  it('answers with a local reply when the http call says no', async () => {
    const host = probeHost({ clusters: { auth: () => ({ status: 403, body: 'nope' }) } });
    const r = await host.request({ headers: { 'x-probe': 'http-call', 'x-probe-cluster': 'auth' } });
    expect(r.status).toBe(403);
    expect(r.body).toBe('denied by auth: nope');
    expect(header(r, 'x-denied-by')).toBe('probe');
    expect(header(r, 'content-type')).toBe('text/plain');
    expect(r.localReply).toEqual({ status: 403, details: 'probe_denied', plugin: 'probe' });
    expect(r.upstream).toBeUndefined();
  });

  it('times out an http call on the virtual clock', async () => {
    const host = probeHost({ clusters: { auth: () => new Promise(() => {}) } });
    const stream = host.startRequest({ headers: { 'x-probe': 'http-call', 'x-probe-cluster': 'auth' } });
    const stalled = await host.wait(stream);
    expect(stalled.stalled).toBeDefined();
    await host.advance(1000);
    const r = await host.wait(stream);
    // Envoy answers the timed-out call itself with a 504, which the probe treats as a refusal.
    expect(r.status).toBe(403);
    expect(r.body).toBe('denied by auth: upstream request timeout');
    expect(host.callouts[0].outcome).toBe('timeout');
  });

  it('gets BadArgument for an http call to an unknown cluster', async () => {
    const host = probeHost();
    const r = await host.request({ headers: { 'x-probe': 'http-call', 'x-probe-cluster': 'nowhere' } });
    expect(header(r, 'x-http-call-result')).toBe('2');
    expect(r.status).toBe(200);
  });

  it('makes a unary gRPC call through a test handler', async () => {
    const host = probeHost({ clusters: { echo: { grpc: (call) => ({ response: new TextEncoder().encode(`${call.service}/${call.method}`), status: 0 }) } } });
    const r = await host.request({ headers: { 'x-probe': 'grpc-call', 'x-probe-cluster': 'echo' } });
    expect(r.upstream!.headers).toContainEqual(['x-grpc-status', '0']);
    expect(r.upstream!.headers).toContainEqual(['x-grpc-response', 'probe.Echo/Say']);
    expect(host.callouts[0]).toMatchObject({ kind: 'grpc', service: 'probe.Echo', method: 'Say' });
    expect(host.callouts[0].headers).toContainEqual(['x-probe-md', '1']);
  });

  it('reports a gRPC failure status and message to the handler', async () => {
    const host = probeHost({ clusters: { echo: { grpc: () => ({ status: 7, message: 'not allowed' }) } } });
    const r = await host.request({ headers: { 'x-probe': 'grpc-call', 'x-probe-cluster': 'echo' } });
    expect(r.upstream!.headers).toContainEqual(['x-grpc-status', '7']);
    expect(r.upstream!.headers).toContainEqual(['x-grpc-message', 'not allowed']);
  });

  it('sends a local reply from on_request_headers, passing through its own response callback', async () => {
    const host = probeHost();
    const r = await host.request({ headers: { 'x-probe': 'deny' } });
    expect(r.status).toBe(418);
    expect(r.body).toBe('no tea here');
    expect(header(r, 'x-denied')).toBe('yes');
    expect(header(r, 'content-length')).toBe('11');
    // on_response_headers of the sender ran on the local reply:
    expect(header(r, 'x-seen-headers')).toBeDefined();
  });
});

describe('SDK: routing and filter state', () => {
  it('re-routes after the request headers change, and clear_route_cache answers Ok', async () => {
    const options: HostOptions = {
      clusters: { v1: () => ({ status: 200, body: 'v1' }), v2: () => ({ status: 200, body: 'v2' }) },
      routes: [{ match: { prefix: '/', headers: [{ name: 'x-cluster', exact: 'v2' }] }, cluster: 'v2' }, { match: { prefix: '/' }, cluster: 'v1' }],
    };
    const host = probeHost(options);
    // Envoy (ABI 0.2.1) clears the route cache when a filter changes the request headers.
    const changed = await host.request({ headers: { 'x-probe': 'route', 'x-probe-target': 'v2' } });
    expect(changed.upstream!.cluster).toBe('v2');
    const fresh = await host.request({ headers: { 'x-probe': 'route', 'x-probe-target': 'v2', 'x-probe-clear': '1' } });
    expect(header(fresh, 'x-clear-route-cache')).toBe('0');
    expect(fresh.upstream!.cluster).toBe('v2');
  });

  it('declares properties and sets Envoy filter state through foreign functions', async () => {
    const host = probeHost();
    const r = await host.request({ headers: { 'x-probe': 'filter-state' } });
    expect(header(r, 'x-declare')).toBe('0');
    expect(header(r, 'x-envoy-state')).toBe('0');
    expect(new TextDecoder().decode(r.filterState.get('envoy.network.upstream_server_name'))).toBe('backend.local');
  });
});

describe('SDK: failures', () => {
  it('turns an abort into a critical log with file and line, an error from the host, and fails the stream closed', async () => {
    const host = probeHost();
    const r = await host.request({ headers: { 'x-probe': 'trap' } });
    expect(r.status).toBe(503);
    expect(r.localReply?.details).toBe('wasm_fail_stream');
    const critical = host.logs.messages('critical').join('\n');
    expect(critical).toMatch(/abort: probe asked to trap at test\/fixtures\/sdk-probe\/index\.ts:\d+:\d+/);
    expect(host.logs.messages('error').join('\n')).toMatch(/Function: proxy_on_request_headers failed: proxy_on_request_headers trapped/);
  });
});

describe('SDK: trailers and gRPC streams', () => {
  it('sees and changes request and response trailers', async () => {
    const host = probeHost({ clusters: { backend: () => ({ status: 200, body: 'x', trailers: { 'grpc-status': '0', 'grpc-message': 'ok' } }) } });
    // Request trailers reach filters over HTTP/2 (Envoy's HTTP/1 codec drops them by default).
    const r = await host.request({ method: 'POST', body: 'data', trailers: { 'x-checksum': 'abc' }, protocol: 'HTTP/2' });
    expect(r.upstream!.trailers).toEqual([['x-checksum', 'abc'], ['x-trailer-added', 'yes']]);
    expect(r.trailers).toContainEqual(['grpc-message', 'rewritten by probe']);
    expect(header(r, 'x-seen-request-trailers')).toBe('1');
    expect(header(r, 'x-seen-eos')).toBe('0');
  });

  it('opens a gRPC stream, sends messages and receives the replies', async () => {
    const host = probeHost({ clusters: { chat: { grpc: (call) => ({ response: new TextEncoder().encode(`re:${new TextDecoder().decode(call.message)}`) }) } } });
    const r = await host.request({ headers: { 'x-probe': 'grpc-stream', 'x-probe-cluster': 'chat' } });
    expect(r.upstream!.headers).toContainEqual(['x-stream-messages', 're:one|re:two']);
    expect(r.upstream!.headers).toContainEqual(['x-stream-status', '0']);
    expect(host.callouts[0]).toMatchObject({ kind: 'grpc-stream', service: 'probe.Chat', method: 'Talk', outcome: '0' });
  });
});

describe('SDK: garbage collection (the minimal runtime, collected between callbacks)', () => {
  it('keeps memory bounded: 20,000 requests that each make garbage leave the heap where 3,000 left it', async () => {
    const host = closeAfterTest(new Host({ clusters: { backend: () => ({ status: 200 }) } }));
    // Each request parses headers, builds strings and a JSON access log line: garbage every time.
    host.addPlugin({ module: filterModule('telemetry'), rootId: 'telemetry', configuration: { access_log: true } });
    const memory = () => host.plugins[0].vms[0].memory.buffer.byteLength;
    const send = async (n: number) => {
      for (let i = 0; i < n; i++) await host.request({ path: `/reviews/${i}`, headers: { 'x-request-id': `r-${i}`, 'user-agent': 'x'.repeat(200) } });
    };
    await send(3_000);
    const after3k = memory();
    // A collection every 64 callbacks keeps the heap small (the garbage of ~10 requests at most).
    expect(after3k).toBeLessThanOrEqual(2 * 1024 * 1024);
    await send(17_000);
    expect(memory()).toBe(after3k);
    expect(host.logs.messages('info').filter((l) => l.startsWith('{')).length).toBe(20_000);
  }, 120_000);
});
