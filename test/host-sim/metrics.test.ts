// Metrics in Prometheus text, with stats_tags.
import { describe, expect, it } from 'vitest';
import { fixtureModule } from '../support/modules.js';
import { newHost } from '../support/hosts.js';


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

