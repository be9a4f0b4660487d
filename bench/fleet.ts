// npm run bench:fleet: what rate-quota adds to a request's latency through real Envoy, in local
// mode and in global mode (a round trip to envoyproxy/ratelimit and Redis on loopback), against
// the same Envoy without the filter, measured in one run: sequential requests on a kept-alive
// connection, each timed with the process's high-resolution clock.
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../cli/build.js';
import { EnvoyProcess, envoyMissingReason } from '../cli/envoy/process.js';
import { localize, readBootstrap, wasmPlugin } from '../test/envoy/bootstrap.js';
import { shippedConfiguration, startFleet } from '../test/fleet/fleet.js';
import { fleetMissingReason } from '../test/fleet/services.js';
import { freePort } from '../test/support/ports.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 5_000);

const missing = fleetMissingReason() ?? envoyMissingReason();
if (missing) {
  console.error(`bench:fleet cannot run: ${missing}`);
  process.exit(1);
}

/** Median and p99 latency (µs) of REQUESTS sequential requests, each from another user. */
async function latency(envoy: EnvoyProcess): Promise<{ median: number; p99: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let n = 0;
  const once = () => new Promise<number>((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = request({ host: '127.0.0.1', port: envoy.port, path: '/', agent, headers: { 'x-user-id': `user-${n++}` } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - start) / 1000) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
  for (let i = 0; i < 500; i++) await once(); // warm up: connections, VMs, the service's Redis pool
  const samples: number[] = [];
  for (let i = 0; i < REQUESTS; i++) samples.push(await once());
  agent.destroy();
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], p99: samples[Math.floor(samples.length * 0.99)] };
}

const upstream = createServer((_req, res) => res.end('ok'));
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const backend = (upstream.address() as AddressInfo).port;

const roomy = { max_amount: 1_000_000_000, valid_duration: '1h' };
const localBootstrap = readBootstrap(join(ROOT, 'envoy-configs', 'rate-quota.yaml'));
const filters: Json[] = localBootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters;
wasmPlugin(localBootstrap, 'rate-quota').configuration.value = JSON.stringify({
  dimensions: { user: { header: 'x-user-id' } }, quotas: [{ name: 'per_user', dimensions: ['user'], ...roomy }],
});
const bare = structuredClone(localBootstrap);
bare.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters = filters.filter((f) => f.typed_config?.config?.name !== 'rate-quota');

const where = { upstreams: { backend }, fallbackPort: await freePort() };
const noFilter = await EnvoyProcess.start(localize(bare, where), { concurrency: 2 });
const local = await EnvoyProcess.start(localize(localBootstrap, where), { concurrency: 2 });
const global = shippedConfiguration();
Object.assign(global.quotas[0], { max_amount: 1_000_000, valid_duration: '1h' });
const fleet = await startFleet(global, 1);
try {
  const base = await latency(noFilter);
  const inLocal = await latency(local);
  const inGlobal = await latency(fleet.envoys[0]);
  const row = (label: string, r: { median: number; p99: number }) =>
    console.log(`${label.padEnd(40)}${r.median.toFixed(0).padStart(12)}${r.p99.toFixed(0).padStart(12)}${(r.median - base.median).toFixed(0).padStart(16)}`);
  console.log(`\nrate-quota in real Envoy: ${REQUESTS} sequential requests, each from another user (µs)`);
  console.log(`${''.padEnd(40)}${'median'.padStart(12)}${'p99'.padStart(12)}${'added (median)'.padStart(16)}`);
  row('Envoy without the filter', base);
  row('local mode', inLocal);
  row('global mode (ratelimit + Redis)', inGlobal);
  console.log(`ratio of medians: local/no filter ${(inLocal.median / base.median).toFixed(2)}, global/no filter ${(inGlobal.median / base.median).toFixed(2)}, global/local ${(inGlobal.median / inLocal.median).toFixed(2)}`);
} finally {
  await noFilter.stop();
  await local.stop();
  await fleet.close();
  upstream.close();
}
