// filters/telemetry in host-sim: Istio series per outcome, labels from node and peer metadata,
// the cardinality cap, Prometheus output through the generated stats_tags, trace context and a
// JSON access log that hostile headers cannot break.
import { describe, expect, it } from 'vitest';
import { Host, type HostOptions } from '../../../host-sim/index.js';
import { protoStruct } from '../../../host-sim/attributes.js';
import telemetryDeployment from '../../../filters/telemetry/deployment.js';
import { filterModule } from '../../support/modules.js';
import { rejectsConfigurations } from '../../support/filters.js';
import { closeAfterTest } from '../../support/hosts.js';


const node = { id: 'ratings', metadata: { WORKLOAD_NAME: 'ratings-v1', NAMESPACE: 'bookinfo', LABELS: { app: 'ratings', version: 'v1' } } };
const peer = Buffer.from(protoStruct({ WORKLOAD_NAME: 'reviews-v3', NAMESPACE: 'bookinfo', SERVICE_ACCOUNT: 'reviews', LABELS: { app: 'reviews', version: 'v3' } })).toString('base64');
/** The client certificate reviews' sidecar presents, which vouches for its metadata. */
const mtls = { peerCertificate: { uriSan: 'spiffe://cluster.local/ns/bookinfo/sa/reviews' } };

function telemetry(configuration: object, options: HostOptions = {}, before: (host: Host) => void = () => {}): Host {
  const host = new Host({
    node,
    ...options,
    clusters: {
      backend: (req) => {
        const path = req.headers.find(([k]) => k === ':path')![1];
        if (path === '/missing') return { status: 404, body: 'no' };
        if (path === '/reset') return { status: 0, reset: true };
        return { status: 200, body: 'hello' };
      },
      ...options.clusters,
    },
  });
  closeAfterTest(host);
  before(host);
  host.addPlugin({ module: filterModule('telemetry'), rootId: 'telemetry', configuration });
  return host;
}

const labels = ['reporter', 'source_app', 'source_version', 'destination_app', 'response_code', 'response_flags'];

function requestsTotal(host: Host, configuration: object): string[] {
  return host.prometheus(telemetryDeployment.statsTags!(configuration as never)).split('\n').filter((l) => l.startsWith('istio_requests_total{'));
}

describe('telemetry: Istio metrics', () => {
  it('counts each request outcome in its own series: 2xx, 4xx, a local reply and an upstream reset', async () => {
    const configuration = { labels, access_log: false };
    const host = telemetry(configuration, {}, (h) => {
      // An access-control filter before telemetry denies /admin with a local reply.
      h.addPlugin({ module: filterModule('access-control'), rootId: 'access-control',
        configuration: { policies: [{ name: 'no-admin', action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin'] } }] }] }] } });
    });
    const from = { 'x-envoy-peer-metadata': peer };
    await host.request({ path: '/', headers: from, tls: mtls });
    await host.request({ path: '/', headers: from, tls: mtls });
    await host.request({ path: '/missing', headers: from, tls: mtls });
    await host.request({ path: '/admin', headers: from, tls: mtls });
    await host.request({ path: '/reset', headers: from, tls: mtls });
    expect(requestsTotal(host, configuration)).toEqual([
      'istio_requests_total{reporter="destination",source_app="reviews",source_version="v3",destination_app="ratings",response_code="200",response_flags="-"} 2',
      'istio_requests_total{reporter="destination",source_app="reviews",source_version="v3",destination_app="ratings",response_code="403",response_flags="-"} 1',
      'istio_requests_total{reporter="destination",source_app="reviews",source_version="v3",destination_app="ratings",response_code="404",response_flags="-"} 1',
      'istio_requests_total{reporter="destination",source_app="reviews",source_version="v3",destination_app="ratings",response_code="503",response_flags="UR"} 1',
    ]);
  });

  it('records durations and sizes as histograms', async () => {
    const configuration = { labels: ['reporter', 'response_code'], access_log: false };
    const host = telemetry(configuration, { clusters: { backend: () => new Promise((resolve) => setImmediate(() => resolve({ status: 200, body: 'x'.repeat(100) }))) } });
    await host.request({ method: 'POST', body: 'y'.repeat(50) });
    const text = host.prometheus(telemetryDeployment.statsTags!(configuration));
    expect(text).toContain('# TYPE istio_request_duration_milliseconds histogram');
    expect(text).toContain('istio_request_duration_milliseconds_count{reporter="destination",response_code="200"} 1');
    expect(text).toMatch(/istio_request_bytes_sum\{reporter="destination",response_code="200"\} \d+/);
    const responseBytes = Number(/istio_response_bytes_sum\{[^}]*\} (\d+)/.exec(text)![1]);
    expect(responseBytes).toBeGreaterThanOrEqual(100);
  });

  it('takes source labels from an mTLS peer\'s metadata and destination labels from node metadata; unknown when missing', async () => {
    const configuration = { labels: ['source_workload', 'source_workload_namespace', 'destination_workload', 'destination_version'], access_log: false };
    const host = telemetry(configuration);
    await host.request({ headers: { 'x-envoy-peer-metadata': peer }, tls: mtls });
    await host.request({ headers: { 'x-envoy-peer-metadata': peer } });
    expect(requestsTotal(host, configuration)).toEqual([
      'istio_requests_total{source_workload="reviews-v3",source_workload_namespace="bookinfo",destination_workload="ratings-v1",destination_version="v1"} 1',
      'istio_requests_total{source_workload="unknown",source_workload_namespace="unknown",destination_workload="ratings-v1",destination_version="v1"} 1',
    ]);
  });

  it('adds custom labels from headers and attributes', async () => {
    const configuration = { labels: ['response_code'], custom_labels: { tenant: { header: 'x-tenant' }, route: { property: ['xds', 'route_name'] } }, access_log: false };
    const host = telemetry(configuration, { routes: [{ name: 'main', match: { prefix: '/' }, cluster: 'backend' }] });
    await host.request({ headers: { 'x-tenant': 'acme' } });
    expect(requestsTotal(host, configuration)).toEqual(['istio_requests_total{response_code="200",tenant="acme",route="main"} 1']);
  });

  it('caps the series of a metric and sends the rest to the overflow series', async () => {
    const configuration = { labels: ['reporter'], custom_labels: { user: { header: 'x-user' } }, max_series_per_metric: 3, access_log: false };
    const host = telemetry(configuration);
    for (let i = 0; i < 6; i++) await host.request({ headers: { 'x-user': `user-${i}` } });
    const lines = requestsTotal(host, configuration);
    expect(lines).toHaveLength(4);
    expect(lines).toContain('istio_requests_total{reporter="destination",user="overflow"} 3');
    expect(host.metrics.value('telemetry.series_overflow')).toBeGreaterThanOrEqual(3);
  });

  it('holds the cap for the whole Envoy, not per worker VM, and keeps admitted series on every worker', async () => {
    const configuration = { labels: ['reporter'], custom_labels: { user: { header: 'x-user' } }, max_series_per_metric: 3, access_log: false };
    const host = telemetry(configuration, { workers: 4 });
    for (let i = 0; i < 12; i++) await host.request({ worker: i % 4, headers: { 'x-user': `user-${i}` } });
    for (let w = 0; w < 4; w++) await host.request({ worker: w, headers: { 'x-user': 'user-0' } });
    const lines = requestsTotal(host, configuration);
    expect(lines).toHaveLength(4);
    expect(lines).toContain('istio_requests_total{reporter="destination",user="user-0"} 5');
    expect(lines).toContain('istio_requests_total{reporter="destination",user="overflow"} 9');
  });
});

describe('telemetry: trace context', () => {
  const traceparent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

  it('creates a traceparent and an x-request-id when absent', async () => {
    const host = telemetry({ access_log: false }, { generateRequestId: false });
    const r = await host.request();
    const sent = r.upstream!.headers.find(([k]) => k === 'traceparent')![1];
    expect(sent).toMatch(traceparent);
    expect(r.upstream!.headers.find(([k]) => k === 'x-request-id')![1]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('keeps a valid trace with a new span id for this hop, and keeps the request id', async () => {
    const host = telemetry({ access_log: false });
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const r = await host.request({ headers: { traceparent: incoming, 'x-request-id': 'req-1' } });
    const [, trace, span, flags] = traceparent.exec(r.upstream!.headers.find(([k]) => k === 'traceparent')![1])!;
    expect(trace).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span).not.toBe('00f067aa0ba902b7');
    expect(flags).toBe('01');
    expect(r.upstream!.headers.filter(([k]) => k === 'x-request-id')).toEqual([['x-request-id', 'req-1']]);
  });

  it('replaces an invalid traceparent and drops the tracestate that belonged to it', async () => {
    const host = telemetry({ access_log: false });
    const kept = await host.request({ headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'vendor=1' } });
    expect(kept.upstream!.headers).toContainEqual(['tracestate', 'vendor=1']);
    const restarted = await host.request({ headers: { traceparent: 'garbage', tracestate: 'vendor=1' } });
    expect(restarted.upstream!.headers.find(([k]) => k === 'tracestate')).toBeUndefined();
    for (const bad of ['garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01']) {
      const r = await host.request({ headers: { traceparent: bad } });
      const sent = r.upstream!.headers.find(([k]) => k === 'traceparent')![1];
      expect(sent).toMatch(traceparent);
      expect(sent.slice(3, 35)).not.toBe(bad.slice(3, 35).toLowerCase());
    }
  });
});

describe('telemetry: access log', () => {
  it('writes one JSON line per request that hostile header values cannot break', async () => {
    const host = telemetry({ access_log: { level: 'info', headers: ['x-tenant'] } });
    const hostile = ['"}, "status": 200, "x": "', 'back\\slash', 'new\nline\r\t', '\u0001\u001f', 'emoji \u{1f600} and \u00e9', 'lone \ud800 surrogate'];
    for (const value of hostile) await host.request({ path: '/p?q=1', headers: { 'user-agent': value, 'x-tenant': value } });
    const lines = host.logs.messages('info').filter((l) => l.startsWith('{'));
    expect(lines).toHaveLength(hostile.length);
    lines.forEach((line, i) => {
      const entry = JSON.parse(line);
      expect(entry.status).toBe(200);
      expect(entry.method).toBe('GET');
      expect(entry.upstream_cluster).toBe('backend');
      expect(entry.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(typeof entry.duration_ms).toBe('number');
      const expected = hostile[i].replace(/[\ud800-\udfff]/g, (c, at, s) => (/[\ud800-\udbff][\udc00-\udfff]/.test(s.slice(at, at + 2)) || /[\ud800-\udbff][\udc00-\udfff]/.test(s.slice(at - 1, at + 1)) ? c : '\ufffd'));
      expect(entry.user_agent).toBe(expected);
      expect(entry['x-tenant']).toBe(expected);
    });
  });

  it('samples by percentage', async () => {
    const none = telemetry({ access_log: { sampling_percentage: 0 } });
    for (let i = 0; i < 50; i++) await none.request();
    expect(none.logs.messages('info').filter((l) => l.startsWith('{'))).toHaveLength(0);
    const some = telemetry({ access_log: { sampling_percentage: 30 } });
    for (let i = 0; i < 1000; i++) await some.request();
    const logged = some.logs.messages('info').filter((l) => l.startsWith('{')).length;
    expect(logged).toBeGreaterThan(220);
    expect(logged).toBeLessThan(380);
  });
});

describe('telemetry: configuration errors', () => {
  const cases: [string, object, RegExp][] = [
    ['an unknown Istio label', { labels: ['source_colour'] }, /labels\[0\]: "source_colour" is not an Istio label/],
    ['a custom label with a bad name', { custom_labels: { 'Bad-Name': { header: 'x' } } }, /custom_labels\.Bad-Name: label names are lower-case letters/],
    ['a custom label without a source', { custom_labels: { tenant: {} } }, /custom_labels\.tenant: expected \{"header": "name"\}/],
    ['a zero series cap', { max_series_per_metric: 0 }, /max_series_per_metric: must be between 1 and 1000000, got 0/],
    ['an unknown log level', { access_log: { level: 'loud' } }, /access_log\.level: "loud" is not one of/],
    ['a sampling percentage above 100', { access_log: { sampling_percentage: 101 } }, /access_log\.sampling_percentage: must be between 0 and 100, got 101/],
  ];
  rejectsConfigurations('telemetry', cases);
});

describe('wfk stats-tags', () => {
  it('prints the stats_tags a telemetry configuration needs, and fails clearly on a missing file', async () => {
    const { execFileSync, spawnSync } = await import('node:child_process');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'stats-tags-'));
    writeFileSync(join(dir, 'telemetry.json'), JSON.stringify({ labels: ['reporter'], custom_labels: { tenant: { header: 'x-tenant' } } }));
    const wfk = join(__dirname, '..', '..', '..', 'cli', 'bin', 'wfk.mjs');
    const out = JSON.parse(execFileSync(process.execPath, [wfk, 'stats-tags', 'telemetry', '--config', join(dir, 'telemetry.json')], { encoding: 'utf8' }));
    expect(out.stats_config.stats_tags).toEqual([
      { tag_name: 'reporter', regex: '(reporter=\\.=(.*?);\\.;)' },
      { tag_name: 'tenant', regex: '(tenant=\\.=(.*?);\\.;)' },
    ]);
    const missing = spawnSync(process.execPath, [wfk, 'stats-tags', 'telemetry', '--config', join(dir, 'nope.json')], { encoding: 'utf8' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the configuration .*nope\.json/);
  });
});
