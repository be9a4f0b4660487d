// Traps in debug builds point at the filter's source line.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixtureModule } from '../support/modules.js';
import { newHost } from '../support/hosts.js';


describe('traps in debug builds', () => {
  it('names the AssemblyScript file and line from the source map', async () => {
    const host = newHost({ clusters: { backend: () => ({ status: 200 }) } });
    host.addPlugin({ module: fixtureModule('sdk-probe.debug'), rootId: 'probe' });
    const r = await host.request({ headers: { 'x-probe-trap-at': 'response-headers' } });
    expect(r.status).toBe(503);
    const source = readFileSync('test/fixtures/sdk-probe/index.ts', 'utf8').split('\n');
    const line = source.findIndex((l) => l.includes('unreachable();')) + 1;
    expect(host.logs.messages('error').join('\n')).toMatch(new RegExp(`proxy_on_response_headers trapped: unreachable \\(at .*test/fixtures/sdk-probe/index\\.ts:${line}:\\d+\\)`));
  });

  it('names the filter\'s line of a failed throw or assertion, not the SDK\'s abort helper it ends in', async () => {
    const host = newHost({ clusters: { backend: () => ({ status: 200 }) } });
    host.addPlugin({ module: fixtureModule('sdk-probe.debug'), rootId: 'probe' });
    const r = await host.request({ headers: { 'x-probe': 'trap' } });
    expect(r.status).toBe(503);
    const source = readFileSync('test/fixtures/sdk-probe/index.ts', 'utf8').split('\n');
    const line = source.findIndex((l) => l.includes('throw new Error("probe asked to trap")')) + 1;
    const errors = host.logs.messages('error').join('\n');
    expect(errors).toMatch(new RegExp(`proxy_on_request_headers trapped: .*\\(at .*test/fixtures/sdk-probe/index\\.ts:${line}:\\d+\\)`));
    expect(errors).not.toMatch(/\(at [^)]*internal\/abort\.ts/);
  });
});
