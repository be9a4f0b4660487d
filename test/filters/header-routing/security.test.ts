// Findings of the attack review against header-routing: a client must never pick a cluster
// itself (not even when the filter's VM failed), and cannot hold unbounded requests open by
// asking for delays.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../../cli/paths.js';
import { Host } from '../../../host-sim/index.js';
import { hostSimSetup } from '../../envoy/bootstrap.js';
import { readBootstrap } from '../../envoy/bootstrap.js';
import { filterModule } from '../../support/modules.js';
import { closeAfterTest } from '../../support/hosts.js';


describe('the shipped header-routing config', () => {
  const setup = hostSimSetup(readBootstrap(join(ROOT, 'envoy-configs', 'header-routing.yaml')));
  const shipped = () => {
    const host = new Host({
      clusters: Object.fromEntries(setup.clusters.map((c) => [c, () => ({ status: 200, body: c })])),
      routes: setup.routes, removeRequestHeaders: setup.removeRequestHeaders, pathNormalization: setup.pathNormalization,
    });
    closeAfterTest(host);
    for (const plugin of setup.plugins) host.addPlugin(plugin);
    return host;
  };

  it('fails closed and removes a client-sent cluster header before any filter', () => {
    expect(setup.plugins.map((p) => p.failOpen)).toEqual([false]);
    expect(setup.removeRequestHeaders).toContain('x-route-cluster');
  });

  it('after a VM failure a client still cannot pick a cluster', async () => {
    const host = shipped();
    for (const vm of host.plugins[0].vms) vm.fail('simulated failure');
    const r = await host.request({ headers: { 'x-route-cluster': 'reviews-v2-alpha' } });
    expect(r.status).toBe(503);
    expect(r.upstream).toBeUndefined();
  });
});

describe('client-triggered delays are capped (max_active_faults)', () => {
  it('injects no delay past the limit, counts the overflow, and frees places as delays end', async () => {
    const host = new Host({ workers: 2, clusters: { backend: () => ({ status: 200 }) } });
    closeAfterTest(host);
    host.addPlugin({ module: filterModule('header-routing'), rootId: 'header-routing', configuration: { max_active_faults: 3,
      rules: [{ name: 'slow', match: { headers: [{ name: 'x-slow', present: true }] }, fault: { delay: { percentage: 100, fixed_delay: '10s' } }, targets: [{ cluster: 'backend' }] }] } });
    const streams = Array.from({ length: 10 }, () => host.startRequest({ headers: { 'x-slow': '1' } }));
    const first = await Promise.all(streams.map((s) => host.wait(s)));
    expect(first.filter((r) => r.stalled).length).toBe(3);
    expect(first.filter((r) => r.status === 200).length).toBe(7);
    expect(host.metrics.value('header_routing.faults_overflow')).toBe(7);
    await host.advance(10_000);
    expect((await Promise.all(streams.map((s) => host.wait(s)))).every((r) => r.status === 200)).toBe(true);
    // The places are free again.
    const next = host.startRequest({ headers: { 'x-slow': '1' } });
    expect((await host.wait(next)).stalled).toBeDefined();
    await host.advance(10_000);
    expect((await host.wait(next)).status).toBe(200);
  });
});
