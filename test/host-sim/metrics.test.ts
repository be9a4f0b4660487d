// Metrics in Prometheus text, with stats_tags.
import { afterEach, describe, expect, it } from 'vitest';
import { Host, type HostOptions } from '../../host-sim/index.js';
import { fixtureModule } from '../support/modules.js';

const hosts: Host[] = [];
afterEach(() => { for (const h of hosts.splice(0)) h.close(); });
function newHost(options: HostOptions): Host {
  const host = new Host(options);
  hosts.push(host);
  return host;
}

describe('metrics in Prometheus format', () => {
  it('applies stats_tags the way Envoy does', async () => {
    const host = newHost({ clusters: { backend: () => ({ status: 200 }) } });
    host.addPlugin({ module: fixtureModule('sdk-probe'), rootId: 'probe' });
    await host.request({ headers: { 'x-probe': 'metrics' } });
    const text = host.prometheus([{ tag_name: 'kind', regex: '^((.+?)\\.)' }]);
    expect(text).toContain('# TYPE requests counter');
    expect(text).toContain('requests{kind="probe"} 1');
    expect(text).toContain('# TYPE request_bytes histogram');
    expect(text).toContain('request_bytes_bucket{kind="probe",le="250"} 1');
    expect(text).toContain('request_bytes_count{kind="probe"} 1');
  });
});

