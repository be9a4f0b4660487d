// StreamResult.filters: what each filter did to a stream, in chain order.
import { describe, expect, it } from 'vitest';
import { filterModule } from '../support/modules.js';
import { newHost } from '../support/hosts.js';

describe('the filters\' trace', () => {
  it('lists each filter\'s header writes, a route cache it cleared and the reply it sent', async () => {
    const host = newHost({
      clusters: { stable: () => ({ status: 200 }), canary: () => ({ status: 200 }) },
      routes: [{ match: { prefix: '/', headers: [{ name: 'x-route-cluster', present: true }] }, clusterHeader: 'x-route-cluster' },
        { match: { prefix: '/' }, cluster: 'stable' }],
    });
    host.addPlugin({ module: filterModule('add-header'), rootId: 'add-header', configuration: { request_headers: { 'x-env': 'prod' }, response_headers: { 'x-served-by': 'edge' } } });
    host.addPlugin({ module: filterModule('header-routing'), rootId: 'header-routing',
      configuration: { rules: [{ name: 'canary', match: { headers: [{ name: 'x-canary', present: true }] }, targets: [{ cluster: 'canary' }] }] } });
    host.addPlugin({ module: filterModule('access-control'), rootId: 'access-control',
      configuration: { policies: [{ name: 'no-admin', action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin/{**}'] } }] }] }] } });

    const routed = await host.request({ path: '/reviews', headers: { 'x-canary': '1' } });
    expect(routed.upstream!.cluster).toBe('canary');
    expect(routed.filters).toEqual([
      { plugin: 'add-header', edits: ['request headers: set x-env: prod', 'response headers: set x-served-by: edge'], clearedRouteCache: false },
      { plugin: 'header-routing', edits: ['request headers: set x-route-cluster: canary'], clearedRouteCache: true },
      { plugin: 'access-control', edits: [], clearedRouteCache: false },
    ]);

    const denied = await host.request({ path: '/admin/users' });
    expect(denied.filters.map((f) => f.replied)).toEqual([undefined, undefined, '403 (rbac_access_denied_matched_policy[no-admin])']);
    // The reply passes back through the filters before it: add-header still marks it.
    expect(denied.filters[0].edits).toContain('response headers: set x-served-by: edge');
  });
});
