// Findings of the attack review against telemetry: metric names are built from client bytes, so
// no header may corrupt a series, hide a request from istio_requests_total or break a scrape;
// and peer labels need an authenticated peer.
import { describe, expect, it } from 'vitest';
import { Host } from '../../../host-sim/index.js';
import { protoStruct } from '../../../host-sim/attributes.js';
import telemetryDeployment from '../../../filters/telemetry/deployment.js';
import { filterModule } from '../../support/modules.js';
import { closeAfterTest } from '../../support/hosts.js';


const configuration = { labels: ['reporter', 'source_app', 'response_code'], custom_labels: { tenant: { header: 'x-tenant' } }, access_log: false };

function telemetry(): Host {
  const host = new Host({ node: { id: 'ratings', metadata: { NAMESPACE: 'bookinfo', LABELS: { app: 'ratings' } } }, clusters: { backend: () => ({ status: 200 }) } });
  closeAfterTest(host);
  host.addPlugin({ module: filterModule('telemetry'), rootId: 'telemetry', configuration });
  return host;
}

const strict = new TextDecoder('utf-8', { fatal: true });
const mtls = (account: string) => ({ peerCertificate: { uriSan: `spiffe://cluster.local/ns/bookinfo/sa/${account}` } });
const peer = (labels: Record<string, string>, account = 'reviews') =>
  Buffer.from(protoStruct({ NAMESPACE: 'bookinfo', SERVICE_ACCOUNT: account, LABELS: labels })).toString('base64');

describe('metric labels from client bytes', () => {
  it('every series stays valid UTF-8, on one line, with separators and quotes replaced and a bounded length', async () => {
    const host = telemetry();
    const hostile: (string | Uint8Array)[] = [
      Uint8Array.of(0x61, 0xff, 0xfe, 0x62), 'a;.;response_code=.=999;.;b', 'x\ny', 'q"uote\\', 'é中😀', 'z'.repeat(5_000), ' ', '',
    ];
    for (const value of hostile) await host.request({ headers: { 'x-tenant': value } });
    const names = host.metrics.all().map((m) => m.name).filter((n) => n.includes('istio_requests_total'));
    for (const name of names) {
      expect(() => strict.decode(Buffer.from(name))).not.toThrow();
      expect(name).not.toMatch(/[\n"\\ ]/);
    }
    const text = host.prometheus(telemetryDeployment.statsTags!(configuration as never));
    const series = text.split('\n').filter((l) => l.startsWith('istio_requests_total{'));
    expect(series.length).toBe(hostile.length);
    for (const line of series) {
      expect(line).toMatch(/^istio_requests_total\{reporter="destination",source_app="unknown",response_code="200",tenant="[!#-[\]-~]{1,64}"\} 1$/);
    }
    // No client bytes forged another label's value.
    expect(text).not.toContain('response_code="999"');
  });

  it('a line break in a peer label cannot hide the request from istio_requests_total', async () => {
    const host = telemetry();
    await host.request({ tls: mtls('reviews'), headers: { 'x-envoy-peer-metadata': peer({ app: 'rev\niews' }) } });
    const text = host.prometheus(telemetryDeployment.statsTags!(configuration as never));
    expect(text).toContain('istio_requests_total{reporter="destination",source_app="rev_iews",response_code="200",tenant="unknown"} 1');
  });
});

describe('source labels need an authenticated peer', () => {
  it('labels requests from a forged header as unknown, and counts why', async () => {
    const host = telemetry();
    await host.request({ headers: { 'x-envoy-peer-metadata': peer({ app: 'reviews' }) } });
    await host.request({ tls: mtls('productpage'), headers: { 'x-envoy-peer-metadata': peer({ app: 'reviews' }) } });
    await host.request({ tls: mtls('reviews'), headers: { 'x-envoy-peer-metadata': peer({ app: 'reviews' }) } });
    const text = host.prometheus(telemetryDeployment.statsTags!(configuration as never));
    expect(text).toContain('istio_requests_total{reporter="destination",source_app="unknown",response_code="200",tenant="unknown"} 2');
    expect(text).toContain('istio_requests_total{reporter="destination",source_app="reviews",response_code="200",tenant="unknown"} 1');
    expect(host.metrics.value('telemetry.peer_metadata.untrusted')).toBe(2);
  });
});
