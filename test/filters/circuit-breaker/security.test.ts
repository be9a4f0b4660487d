// Findings of the attack review against circuit-breaker: a client cannot charge its failures to
// another cluster's circuit through the cluster header, forge metric labels or log lines through
// a key, or keep a circuit from recovering by holding probes open. (Bounded keys: behaviour.test.ts.)
import { describe, expect, it } from 'vitest';
import { Host, type UpstreamResponse } from '../../../host-sim/index.js';
import { envoyBootstrap } from '../../../cli/envoy-config.js';
import { loadDeployment } from '../../../cli/deployment.js';
import { filterModule } from '../../support/modules.js';
import { closeAfterTest } from '../../support/hosts.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function breaker(configuration: object, answer: () => UpstreamResponse | Promise<UpstreamResponse>) {
  const host = new Host({ clusters: { reviews: answer } });
  closeAfterTest(host);
  host.addPlugin({ module: filterModule('circuit-breaker'), rootId: 'circuit-breaker', configuration });
  return host;
}

/**
 * A circuit that opened on a 503 and, 5 s later, let a probe through to an upstream that holds it
 * (never answers); release() makes the upstream answer 503 at once again.
 */
async function heldProbe() {
  let hang = false;
  const host = breaker({ trip: { consecutive_failures: 1 }, open: { duration: '5s' }, half_open: { successes_to_close: 1 } },
    () => (hang ? new Promise<UpstreamResponse>(() => {}) : { status: 503 }));
  await host.request();
  await host.advance(5_000);
  hang = true;
  const probe = host.startRequest();
  await host.idle();
  return { host, probe, release: () => { hang = false; } };
}

describe('circuit-breaker: attack review', () => {
  it('generated configs strip the cluster header the key is read from at the edge, and route by it', async () => {
    const configuration = { key: { source: 'cluster', header: 'x-route-cluster' } };
    const bootstrap = envoyBootstrap({ filter: 'circuit-breaker', configuration, deployment: await loadDeployment('circuit-breaker') }) as Json;
    const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    const removed = hcm.http_filters[0].typed_config.mutations.request_mutations.map((m: Json) => m.remove);
    expect(removed).toContain('x-route-cluster');
    expect(hcm.route_config.virtual_hosts[0].routes[0].route).toEqual({ cluster_header: 'x-route-cluster' });
  });

  it('writes keys into metric names and logs only as printable text: no forged labels, no forged lines', async () => {
    const host = breaker({ key: { source: 'header', header: 'x-api' }, trip: { consecutive_failures: 1 } }, () => ({ status: 503 }));
    await host.request({ headers: { 'x-api': 'x;.;circuit=.=reviews;.;\nforged line' } });
    const names = host.metrics.all().map((m) => m.name).filter((n) => n.startsWith('circuit_breaker.circuit'));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(name.match(/circuit=\.=/g)).toHaveLength(1);
    expect(names[0]).toContain('x_._circuit_._reviews_._');
    const lines = host.logs.entries.map((e) => e.message).filter((m) => m.startsWith('circuit '));
    expect(lines).toEqual(['circuit x_._circuit_._reviews_.__forged_line: closed -> open for 5s (trip 1)']);
  });

  it('forgets a probe that never ends after an open period, so a held request cannot keep a circuit from recovering', async () => {
    const { host, release } = await heldProbe();
    expect((await host.request()).headers).toContainEqual(['x-circuit-state', 'open']);
    await host.advance(5_000);
    release();
    const r = host.startRequest();
    await host.idle();
    // The held probe is taken as lost: a new probe goes through (and fails, re-opening the circuit).
    expect((await host.wait(r)).headers).toContainEqual(['x-circuit-state', 'half-open']);
  });

  it('gives a probe\'s place back when its client goes away, without counting it either way', async () => {
    const { host, probe, release } = await heldProbe();
    probe.disconnect();
    expect((await host.wait(probe)).resetReason).toBe('downstream_remote_disconnect');
    release();
    // At once (no open period later), the next request is a probe: the circuit is still half-open.
    const r = await host.request();
    expect(r.headers).toContainEqual(['x-circuit-state', 'half-open']);
    expect(host.metrics.value('circuit_breaker.circuit=.=reviews;.;trips')).toBe(2);
  });
});
