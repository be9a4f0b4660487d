// Runs a scenario in host-sim, configured from the same bootstrap Envoy gets (wasm plugins,
// routes, clusters, stats tags, node), with the same upstream servers, two workers and logs from
// debug up (as the Envoy run sets).
import { Host, PluginLoadError } from '../../host-sim/index.js';
import { hostSimSetup } from './bootstrap.js';
import { prometheusSamples, show, withoutIgnored, IGNORED_RESPONSE_HEADERS, type Exchange, type Observation } from './observation.js';
import { bytesOf, scenarioBootstrap, type Scenario } from './scenario.js';
import type { UpstreamSet } from './upstream.js';

export async function runInHostSim(scenario: Scenario, upstreams: UpstreamSet): Promise<Observation> {
  const setup = hostSimSetup(scenarioBootstrap(scenario));
  const ports = upstreams.ports();
  // A cluster nobody serves points at a closed port, as in the Envoy run.
  const clusters = Object.fromEntries(setup.clusters.map((name) => [name, `http://127.0.0.1:${ports[name] ?? upstreams.closed}`]));
  const host = new Host({ workers: scenario.workers ?? 2, clusters, routes: setup.routes, statsTags: setup.statsTags, node: setup.node, logLevel: 'debug',
    pathNormalization: setup.pathNormalization, removeRequestHeaders: setup.removeRequestHeaders });
  try {
    try {
      for (const plugin of setup.plugins) host.addPlugin(plugin);
    } catch (error) {
      if (error instanceof PluginLoadError) return { loadError: error.message, exchanges: [], metrics: {}, prometheus: [], startupLogs: [], logs: [] };
      throw error;
    }
    const pluginLogs = () => host.logs.entries.filter((e) => e.plugin !== '').map((e) => `${e.level}: ${e.message}`);
    const startupLogs = pluginLogs();
    const exchanges: Exchange[] = [];
    for (const request of scenario.requests) {
      for (let i = 0; i < (request.repeat ?? 1); i++) {
        if (request.after_ms) await host.advance(request.after_ms);
        const headers: [string, Uint8Array][] = (request.headers ?? []).map(([k, v]) => [k.toLowerCase(), bytesOf(v, i)]);
        if (request.body) {
          const length = request.body.reduce((n, c) => n + bytesOf(c).length, 0);
          headers.push(request.content_length ? ['content-length', bytesOf(String(length))] : ['transfer-encoding', bytesOf('chunked')]);
        }
        const stream = host.startRequest({
          method: request.method ?? 'GET',
          path: request.path ?? '/',
          authority: request.authority ?? 'example.com',
          headers,
          ...(scenario.tls ? { scheme: 'https', tls: request.client_certificate ? { peerCertificate: { uriSan: request.client_certificate } } : {} } : {}),
          ...(request.body ? { body: request.body.map(bytesOf) } : {}),
          ...(request.trailers ? { trailers: request.trailers.map(([k, v]) => [k.toLowerCase(), bytesOf(v)] as [string, Uint8Array]) } : {}),
        });
        // On the virtual clock, which follows real time while a real upstream is awaited.
        if (request.give_up_after_ms !== undefined) host.clock.schedule(request.give_up_after_ms, () => stream.disconnect());
        const result = await host.wait(stream, { advanceClock: true });
        exchanges.push({
          status: result.status,
          headers: withoutIgnored(result.headers.filter(([k]) => k !== ':status'), IGNORED_RESPONSE_HEADERS),
          body: show(result.bodyBytes),
          upstreams: upstreams.take(),
        });
      }
    }
    const metrics: Record<string, number> = {};
    for (const prefix of scenario.metrics ?? []) {
      for (const metric of host.metrics.all()) if (metric.name.startsWith(prefix) && metric.kind !== 'histogram') metrics[metric.name] = Number(metric.value);
    }
    const logs = pluginLogs().slice(startupLogs.length);
    const prometheus = scenario.prometheus ? prometheusSamples(host.prometheus(setup.statsTags), scenario.prometheus) : [];
    return { exchanges, metrics, prometheus, startupLogs: startupLogs.sort(), logs };
  } finally {
    host.close();
  }
}
