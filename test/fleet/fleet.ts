// A fleet on loopback: Redis, envoyproxy/ratelimit loaded with `wfk service-config rate-quota`'s output,
// an upstream that records what reaches it, and Envoys (2 workers each) running rate-quota in
// global mode from envoy-configs/rate-quota-global.yaml, with only ports, paths and the plugin
// configuration substituted.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ROOT } from '../../cli/build.js';
import { send, type ClientResponse } from '../../cli/envoy/client.js';
import { EnvoyProcess } from '../../cli/envoy/process.js';
import type { ClientTls } from '../../cli/envoy/pki.js';
import { rateLimitConfig } from '../../filters/rate-quota/ratelimit-config.js';
import { localize, readBootstrap, wasmPlugin } from '../envoy/bootstrap.js';
import { freePort } from '../support/ports.js';
import { RateLimitService, Redis } from './services.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const GLOBAL_BOOTSTRAP = join(ROOT, 'envoy-configs', 'rate-quota-global.yaml');
/** Where the main case leaves its tally for `npm run test:fleet`. */
export const FLEET_REPORT = join(ROOT, 'test', '.build', 'fleet-report.json');

/** The rate-quota configuration the shipped global bootstrap carries. */
export function shippedConfiguration(): Json {
  return JSON.parse(wasmPlugin(readBootstrap(GLOBAL_BOOTSTRAP), 'rate-quota').configuration.value);
}

export interface Fleet {
  redis: Redis;
  service: RateLimitService;
  envoys: EnvoyProcess[];
  /** Request headers each request brought to the upstream, in arrival order. */
  upstreamSaw: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/**
 * Starts the fleet with `configuration` for the filter (and the service's limits from it);
 * `adapt` may change the shipped bootstrap first (node metadata, an mTLS listener).
 */
export async function startFleet(configuration: Json, envoys = 2, adapt?: (bootstrap: Json) => void): Promise<Fleet> {
  const upstreamSaw: IncomingHttpHeaders[] = [];
  const upstream: Server = createServer((req, res) => { upstreamSaw.push(req.headers); res.end('ok'); });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const redis = await Redis.start();
  const service = await RateLimitService.start(redis, { [configuration.rate_limit_service.domain]: rateLimitConfig(configuration) });
  const bootstrap = readBootstrap(GLOBAL_BOOTSTRAP);
  wasmPlugin(bootstrap, 'rate-quota').configuration.value = JSON.stringify(configuration);
  adapt?.(bootstrap);
  const local = localize(bootstrap, { upstreams: { backend: (upstream.address() as AddressInfo).port, ratelimit: service.grpcPort }, fallbackPort: await freePort() });
  const started: EnvoyProcess[] = [];
  for (let i = 0; i < envoys; i++) started.push(await EnvoyProcess.start(local, { concurrency: 2 }));
  return {
    redis, service, envoys: started, upstreamSaw,
    close: async () => {
      for (const e of started) await e.stop();
      await service.close();
      await redis.stop();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    },
  };
}

/** Sends `count` requests round-robin over the fleet's Envoys, `parallel` at a time (over TLS with `tls`). */
export async function spread(fleet: Fleet, count: number, headers: Record<string, string>, parallel = 8, tls?: ClientTls): Promise<ClientResponse[]> {
  const out: ClientResponse[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const envoy = fleet.envoys[i % fleet.envoys.length];
      const pairs = Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)] as [string, Uint8Array]);
      out[i] = await send(envoy.port, { method: 'GET', path: '/', authority: 'fleet', headers: pairs }, 30_000, tls);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

export const header = (r: ClientResponse, name: string): string | undefined => {
  const h = r.headers.find(([k]) => k === name);
  return h ? Buffer.from(h[1]).toString() : undefined;
};

/** Waits until `seconds` of the service's current fixed window are left at least (windows start on the unit). */
export async function roomInWindow(windowSeconds: number, seconds: number): Promise<void> {
  const left = windowSeconds - ((Date.now() / 1000) % windowSeconds);
  if (left < seconds) await new Promise((r) => setTimeout(r, left * 1000 + 100));
}

/** The sum of a filter's counter (wasmcustom.<name> in Envoy's stats) over the fleet's Envoys. */
export async function counter(fleet: Fleet, name: string): Promise<number> {
  let total = 0;
  for (const e of fleet.envoys) total += await e.counter(name);
  return total;
}
