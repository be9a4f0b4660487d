// Runs a scenario in real Envoy: real upstream servers per cluster, Envoy from the scenario's
// bootstrap with only ports, modules and upstream addresses substituted, the requests over a
// raw socket, then the plugins' metrics from /stats and their log lines.
import { localize } from './bootstrap.js';
import { send } from './client.js';
import { EnvoyProcess } from './envoy.js';
import { show, withoutIgnored, IGNORED_RESPONSE_HEADERS, IGNORED_UPSTREAM_HEADERS, type Exchange, type Observation } from './observation.js';
import { bytesOf, scenarioBootstrap, type Scenario } from './scenario.js';
import { closedPort, RecordingUpstream } from './upstream.js';

const utf8Text = (latin1Text: string) => show(new Uint8Array(Buffer.from(latin1Text, 'latin1')));

/** Envoy's prefix on a wasm log line: `wasm log <name> <root_id> <vm_id>: `. */
const WASM_LOG = /^wasm log[^:]*: /;

export const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function runInEnvoy(scenario: Scenario): Promise<Observation> {
  const upstreams = new Map<string, RecordingUpstream>();
  let envoy: EnvoyProcess | undefined;
  try {
    for (const [name, behaviour] of Object.entries(scenario.clusters)) upstreams.set(name, await RecordingUpstream.start(behaviour));
    const bootstrap = localize(scenarioBootstrap(scenario), {
      upstreams: Object.fromEntries([...upstreams].map(([name, u]) => [name, u.port])),
      fallbackPort: await closedPort(),
    });
    try {
      envoy = await EnvoyProcess.start(bootstrap);
    } catch (error) {
      const text = String((error as Error).message);
      const refused = text.match(/Unable to create Wasm plugin[^\n]*|Failed to load Wasm[^\n]*|Wasm VM failed[^\n]*/);
      if (refused) return { loadError: refused[0], exchanges: [], metrics: {}, logs: [] };
      throw error;
    }
    const exchanges: Exchange[] = [];
    for (const request of scenario.requests) {
      for (let i = 0; i < (request.repeat ?? 1); i++) {
        if (request.after_ms) await new Promise((r) => setTimeout(r, request.after_ms));
        const before = new Map([...upstreams].map(([name, u]) => [name, u.received.length]));
        const response = await send(envoy.port, {
          method: request.method ?? 'GET',
          path: request.path ?? '/',
          authority: request.authority ?? 'example.com',
          headers: (request.headers ?? []).map(([k, v]) => [k, bytesOf(v)]),
          body: request.body?.map(bytesOf),
          trailers: request.trailers?.map(([k, v]) => [k, bytesOf(v)]),
          chunkPauseMs: request.body && request.body.length > 1 ? 60 : 0,
        });
        const exchange: Exchange = {
          status: response.status,
          headers: withoutIgnored(response.headers.map(([k, v]) => [k, show(v)]), IGNORED_RESPONSE_HEADERS),
          body: show(response.body),
        };
        for (const [cluster, upstream] of upstreams) {
          const seen = upstream.received[before.get(cluster)!];
          if (!seen) continue;
          const host = seen.headers.find(([k]) => k === 'host')?.[1] ?? '';
          exchange.upstream = {
            cluster, method: seen.method, path: seen.path, authority: utf8Text(host),
            headers: withoutIgnored(seen.headers.filter(([k]) => k !== 'host').map(([k, v]) => [k, utf8Text(v)]), IGNORED_UPSTREAM_HEADERS),
            body: show(seen.body),
          };
        }
        exchanges.push(exchange);
      }
    }
    const metrics: Record<string, number> = {};
    for (const prefix of scenario.metrics ?? []) {
      for (const [name, value] of await envoy.stats(`^${escapeRegex(prefix)}`)) metrics[name] = value;
    }
    const logs = envoy.logLines()
      .filter((l) => l.logger === 'wasm' && WASM_LOG.test(l.message))
      .map((l) => `${l.level}: ${l.message.replace(WASM_LOG, '')}`)
      .sort();
    return { exchanges, metrics, logs };
  } finally {
    await envoy?.stop();
    for (const u of upstreams.values()) await u.close();
  }
}

