// Runs a scenario in host-sim, configured from the same bootstrap Envoy gets: its wasm plugins,
// routes, clusters and stats tags, two workers, logs from debug up (as the Envoy run sets).
import { Host, PluginLoadError, type UpstreamResponse } from '../../host-sim/index.js';
import { hostSimSetup } from './bootstrap.js';
import { show, withoutIgnored, IGNORED_RESPONSE_HEADERS, IGNORED_UPSTREAM_HEADERS, type Exchange, type Observation } from './observation.js';
import { bytesOf, scenarioBootstrap, type Scenario } from './scenario.js';

export async function runInHostSim(scenario: Scenario): Promise<Observation> {
  const setup = hostSimSetup(scenarioBootstrap(scenario));
  let host: Host | undefined;
  const clusters: Record<string, (req: unknown) => UpstreamResponse | Promise<UpstreamResponse>> = {};
  for (const name of setup.clusters) {
    const behaviour = scenario.clusters[name];
    // A cluster nobody serves refuses connections in the Envoy run.
    clusters[name] = () => {
      if (!behaviour) return { status: 503, reset: true };
      const body = behaviour.body ?? '';
      const response: UpstreamResponse = {
        status: behaviour.status ?? 200,
        headers: [...(behaviour.headers ?? []), ['content-length', String(Buffer.byteLength(body))]],
        body,
      };
      if (!behaviour.delayMs) return response;
      return new Promise((resolve) => host!.clock.schedule(behaviour.delayMs!, () => resolve(response)));
    };
  }
  host = new Host({ workers: 2, clusters, routes: setup.routes, statsTags: setup.statsTags, node: setup.node, logLevel: 'debug' });
  try {
    try {
      for (const plugin of setup.plugins) host.addPlugin(plugin);
    } catch (error) {
      if (error instanceof PluginLoadError) return { loadError: error.message, exchanges: [], metrics: {}, logs: [] };
      throw error;
    }
    const exchanges: Exchange[] = [];
    for (const request of scenario.requests) {
      for (let i = 0; i < (request.repeat ?? 1); i++) {
        if (request.after_ms) await host.advance(request.after_ms);
        const headers: [string, string][] = (request.headers ?? []).map(([k, v]) => [k.toLowerCase(), show(bytesOf(v))]);
        if (request.body) headers.push(['transfer-encoding', 'chunked']);
        const result = await host.request({
          method: request.method ?? 'GET',
          path: request.path ?? '/',
          authority: request.authority ?? 'example.com',
          headers,
          ...(request.body ? { body: request.body.map(bytesOf) } : {}),
          ...(request.trailers ? { trailers: request.trailers.map(([k, v]) => [k.toLowerCase(), show(bytesOf(v))] as [string, string]) } : {}),
        }, { advanceClock: true });
        const exchange: Exchange = {
          status: result.status,
          headers: withoutIgnored(result.headers.filter(([k]) => k !== ':status'), IGNORED_RESPONSE_HEADERS),
          body: show(result.bodyBytes),
        };
        if (result.upstream) {
          const h = result.upstream.headers;
          const pseudo = (name: string) => h.find(([k]) => k === name)?.[1] ?? '';
          exchange.upstream = {
            cluster: result.upstream.cluster, method: pseudo(':method'), path: pseudo(':path'), authority: pseudo(':authority'),
            headers: withoutIgnored(h.filter(([k]) => !k.startsWith(':')), IGNORED_UPSTREAM_HEADERS),
            body: show(result.upstream.body),
          };
        }
        exchanges.push(exchange);
      }
    }
    const metrics: Record<string, number> = {};
    for (const prefix of scenario.metrics ?? []) {
      for (const metric of host.metrics.all()) if (metric.name.startsWith(prefix) && metric.kind !== 'histogram') metrics[metric.name] = Number(metric.value);
    }
    const logs = host.logs.entries.filter((e) => e.plugin !== '').map((e) => `${e.level}: ${e.message}`).sort();
    return { exchanges, metrics, logs };
  } finally {
    host.close();
  }
}
