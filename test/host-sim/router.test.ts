// The router and its route table, and streams spread over workers.
import { describe, expect, it } from 'vitest';
import { Host, type HostOptions } from '../../host-sim/index.js';
import { fixtureModule } from '../support/modules.js';
import { newHost } from '../support/hosts.js';

const clusters = { v1: () => ({ status: 200, body: 'v1' }), v2: () => ({ status: 200, body: 'v2' }) };

describe('router', () => {
  it('matches path prefix, exact path, regex and headers in order', async () => {
    const host = newHost({ clusters, routes: [
      { name: 'exact', match: { path: '/exact' }, cluster: 'v2' },
      { name: 'regex', match: { regex: '/items/[0-9]+' }, cluster: 'v2' },
      { name: 'header', match: { prefix: '/', headers: [{ name: 'x-canary', present: true }] }, cluster: 'v2' },
      { name: 'rest', match: { prefix: '/' }, cluster: 'v1' },
    ] });
    expect((await host.request({ path: '/exact' })).upstream!.cluster).toBe('v2');
    expect((await host.request({ path: '/exact/more' })).upstream!.cluster).toBe('v1');
    expect((await host.request({ path: '/items/42?x=1' })).upstream!.cluster).toBe('v2');
    expect((await host.request({ path: '/items/abc' })).upstream!.cluster).toBe('v1');
    const canary = await host.request({ headers: { 'x-canary': '' } });
    expect(canary.upstream!.cluster).toBe('v2');
    expect(canary.route!.route!.name).toBe('header');
  });

  it('routes by cluster_header and answers 503 for a missing or unknown cluster', async () => {
    const host = newHost({ clusters, routes: [{ match: { prefix: '/' }, clusterHeader: 'x-cluster' }] });
    expect((await host.request({ headers: { 'x-cluster': 'v2' } })).upstream!.cluster).toBe('v2');
    const missing = await host.request();
    expect(missing.status).toBe(503);
    expect(missing.responseCodeDetails).toBe('cluster_not_found');
    const unknown = await host.request({ headers: { 'x-cluster': 'v9' } });
    expect(unknown.status).toBe(503);
    expect(unknown.responseCodeDetails).toBe('cluster_not_found');
    expect(unknown.body).toBe('no healthy upstream');
  });

  it('answers 404 when no route matches', async () => {
    const host = newHost({ clusters, routes: [{ match: { prefix: '/api' }, cluster: 'v1' }] });
    const r = await host.request({ path: '/other' });
    expect(r.status).toBe(404);
    expect(r.upstream).toBeUndefined();
  });

  it('splits weighted clusters by weight, repeatably for a seed', async () => {
    const options: HostOptions = { clusters, seed: 7, routes: [{ match: { prefix: '/' }, weightedClusters: [{ name: 'v1', weight: 90 }, { name: 'v2', weight: 10 }] }] };
    const count = async (host: Host) => {
      let v2 = 0;
      for (let i = 0; i < 2000; i++) if ((await host.request()).upstream!.cluster === 'v2') v2++;
      return v2;
    };
    const first = await count(newHost(options));
    expect(first).toBeGreaterThan(140);
    expect(first).toBeLessThan(260);
    expect(await count(newHost(options))).toBe(first);
  });

  it('times out an upstream that never answers after 15 s of virtual time', async () => {
    const host = newHost({ clusters: { slow: () => new Promise(() => {}) } });
    const r = await host.request({}, { advanceClock: true });
    expect(r.status).toBe(504);
    expect(r.responseCodeDetails).toBe('upstream_response_timeout');
    expect(r.body).toBe('upstream request timeout');
  });
});

describe('workers', () => {
  it('interleaves streams on different workers in the order the test releases them', async () => {
    // The upstream holds every request until the test answers it.
    const waiting: ((status: number) => void)[] = [];
    const host = newHost({ workers: 2, clusters: { backend: () => new Promise((resolve) => waiting.push((status) => resolve({ status }))) } });
    host.addPlugin({ module: fixtureModule('sdk-probe'), rootId: 'probe' });
    const a = host.startRequest({ worker: 0, headers: { 'x-probe': 'shared' } });
    const b = host.startRequest({ worker: 1, headers: { 'x-probe': 'shared' } });
    const finished: string[] = [];
    void a.done.then(() => finished.push('a'));
    void b.done.then(() => finished.push('b'));
    const done = [host.wait(a), host.wait(b)];
    await Promise.resolve();
    expect(waiting).toHaveLength(2);
    waiting[1](201);
    waiting[0](202);
    const [ra, rb] = await Promise.all(done);
    expect(finished).toEqual(['b', 'a']);
    expect([ra.status, rb.status]).toEqual([202, 201]);
    // Both workers' VMs counted into the same shared data.
    expect([ra, rb].map((r) => r.headers.find(([k]) => k === 'x-shared-value')![1])).toEqual(['1', '2']);
    expect(host.plugins[0].vms).toHaveLength(2);
  });

  it('refuses a worker that does not exist', () => {
    const host = newHost({ workers: 2 });
    expect(() => host.startRequest({ worker: 2 })).toThrow('worker 2 does not exist (the host has 2)');
  });
});

