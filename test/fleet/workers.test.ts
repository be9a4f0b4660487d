// Local mode's promise across Envoy's real workers: one Envoy with 4 workers (4 Wasm VMs sharing
// the quota through shared data) under a concurrent burst from a load generator (autocannon)
// never admits more than the limit; the contention counters say how the workers raced.
import autocannon from 'autocannon';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../cli/build.js';
import { EnvoyProcess, envoyMissingReason } from '../../cli/envoy/process.js';
import { localize, readBootstrap, wasmPlugin } from '../envoy/bootstrap.js';
import { freePort } from '../support/ports.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let upstream: Server;
const started: EnvoyProcess[] = [];

async function envoyWith(configuration: Json): Promise<EnvoyProcess> {
  const bootstrap = readBootstrap(join(ROOT, 'envoy-configs', 'rate-quota.yaml'));
  wasmPlugin(bootstrap, 'rate-quota').configuration.value = JSON.stringify(configuration);
  const local = localize(bootstrap, { upstreams: { backend: (upstream.address() as AddressInfo).port }, fallbackPort: await freePort() });
  const envoy = await EnvoyProcess.start(local, { concurrency: 4 });
  started.push(envoy);
  return envoy;
}

/** A burst of `amount` requests over `connections` connections; the count of each status. */
async function burst(envoy: EnvoyProcess, amount: number, connections: number): Promise<Record<string, number>> {
  const result = await autocannon({ url: envoy.url, amount, connections, headers: { 'x-user-id': 'burst-user' } });
  return Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, (s as { count: number }).count]));
}

const quota = (limit: number, onContention: string) => ({
  dimensions: { user: { header: 'x-user-id' } },
  quotas: [{ name: 'per_user', dimensions: ['user'], max_amount: limit, valid_duration: '1h', algorithm: 'fixed_window' }],
  on_contention: onContention,
});

describe.skipIf(envoyMissingReason() !== undefined)('local mode across 4 real Envoy workers', () => {
  beforeAll(async () => {
    upstream = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const e of started) await e.stop();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  });

  it.each([['deny'], ['allow']])('a burst of 3,000 requests on 64 connections admits at most the limit (on_contention: %s)', async (onContention) => {
    const limit = 500;
    const envoy = await envoyWith(quota(limit, onContention));
    const codes = await burst(envoy, 3_000, 64);
    const admitted = codes['200'] ?? 0;
    const allowed = await envoy.counter('rate_quota.per_user.allowed');
    const contended = await envoy.counter('rate_quota.cas_exhausted');
    console.log(`on_contention ${onContention}: ${admitted}/${limit} admitted, ${codes['429'] ?? 0} limited, ${contended} updates gave up after cas_retries`);
    expect((codes['200'] ?? 0) + (codes['429'] ?? 0)).toBe(3_000);
    expect(allowed).toBe(admitted);
    // A worker that loses every compare-and-swap race applies on_contention: deny keeps the
    // limit whatever happens, allow lets exactly those requests through, and counts them.
    if (onContention === 'deny') expect(admitted).toBeLessThanOrEqual(limit);
    else expect(admitted).toBeLessThanOrEqual(limit + contended);
    expect(admitted).toBeGreaterThanOrEqual(limit - contended);
  }, 120_000);
});
