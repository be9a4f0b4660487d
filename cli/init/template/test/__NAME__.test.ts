// __NAME__ in host-sim, the simulated Envoy: no Envoy binary needed. `npm test` builds first.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Host, PluginLoadError } from 'wasm-filter-kit/host-sim';

const module = 'dist/__NAME__.wasm';
const configuration = JSON.parse(readFileSync('config.json', 'utf8'));
let host: Host;
afterEach(() => host.close());

function load(config: object = configuration): Host {
  host = new Host({ clusters: { backend: () => ({ status: 200, body: 'hello from the backend' }) } });
  host.addPlugin({ module, rootId: '__NAME__', configuration: config });
  return host;
}

describe('__NAME__', () => {
  it('passes ordinary requests and adds its header to the response', async () => {
    const r = await load().request({ path: '/reviews/1' });
    expect(r.status).toBe(200);
    expect(r.body).toBe('hello from the backend');
    expect(r.headers).toContainEqual(['x-filtered-by', '__NAME__']);
  });

  it('answers requests under the blocked path with 403, before they reach the backend', async () => {
    const r = await load().request({ path: '/admin/users' });
    expect(r.status).toBe(403);
    expect(r.upstream).toBeUndefined();
    expect(r.localReply?.details).toBe('blocked_by___NAME__');
  });

  it('matches paths as Envoy normalizes them, whole segments only', async () => {
    const host = load();
    for (const path of ['/admin', '/%61dmin/users', '//admin', '/x/../admin', '/admin?page=2']) {
      expect((await host.request({ path })).status, path).toBe(403);
    }
    expect((await host.request({ path: '/administrator' })).status).toBe(200);
  });

  it('refuses a bad configuration, naming the field, as Envoy would', () => {
    expect(() => load({ blocked_prefix: 'admin' })).toThrow(PluginLoadError);
    expect(() => load({ blocked_prefix: 'admin' })).toThrow(/blocked_prefix: must start with \//);
  });
});
