// Runs a scenario in real Envoy: Envoy from the scenario's bootstrap with only ports, modules
// and upstream addresses substituted, the requests over a raw socket, then the plugins'
// metrics from /stats and their log lines.
import { localize } from './bootstrap.js';
import { send } from '../../cli/envoy/client.js';
import { EnvoyProcess } from '../../cli/envoy/process.js';
import { Pki } from '../../cli/envoy/pki.js';
import { prometheusSamples, show, withoutIgnored, IGNORED_RESPONSE_HEADERS, type Exchange, type Observation } from './observation.js';
import { bytesOf, scenarioBootstrap, type Scenario } from './scenario.js';
import type { UpstreamSet } from './upstream.js';

/** Envoy's prefix on a wasm log line: `wasm log <name> <root_id> <vm_id>: `. */
const WASM_LOG = /^wasm log[^:]*: /;

export const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export async function runInEnvoy(scenario: Scenario, upstreams: UpstreamSet): Promise<Observation> {
  const bootstrap = localize(scenarioBootstrap(scenario), { upstreams: upstreams.ports(), fallbackPort: upstreams.closed });
  const pki = scenario.tls ? new Pki() : undefined;
  if (pki) {
    for (const listener of bootstrap.static_resources?.listeners ?? []) {
      for (const chain of listener.filter_chains ?? []) chain.transport_socket = pki.downstreamTlsContext(scenario.tls!.require_client_certificate ?? false);
    }
  }
  let envoy: EnvoyProcess;
  try {
    envoy = await EnvoyProcess.start(bootstrap, { concurrency: scenario.workers ?? 2 });
  } catch (error) {
    pki?.close();
    const refused = String((error as Error).message).match(/Unable to create Wasm plugin[^\n]*|Failed to load Wasm[^\n]*|Wasm VM failed[^\n]*/);
    if (refused) return { loadError: refused[0], exchanges: [], metrics: {}, prometheus: [], startupLogs: [], logs: [] };
    throw error;
  }
  try {
    const wasmLogs = () => envoy.logLines()
      .filter((l) => l.logger === 'wasm' && WASM_LOG.test(l.message))
      .map((l) => `${l.level}: ${l.message.replace(WASM_LOG, '')}`);
    const startupLogs = wasmLogs();
    const exchanges: Exchange[] = [];
    for (const request of scenario.requests) {
      for (let i = 0; i < (request.repeat ?? 1); i++) {
        if (request.after_ms) await new Promise((r) => setTimeout(r, request.after_ms));
        const response = await send(envoy.port, {
          method: request.method ?? 'GET',
          path: request.path ?? '/',
          authority: request.authority ?? 'example.com',
          headers: (request.headers ?? []).map(([k, v]) => [k, bytesOf(v, i)]),
          body: request.body?.map(bytesOf),
          trailers: request.trailers?.map(([k, v]) => [k, bytesOf(v)]),
          contentLength: request.content_length,
          chunkPauseMs: request.body && request.body.length > 1 ? 60 : 0,
        }, request.give_up_after_ms ?? 30_000, pki?.clientTls(request.client_certificate));
        // on_log runs after the client has its answer: let the stream finish before the next one.
        await envoy.idle();
        exchanges.push({
          status: response.status,
          headers: withoutIgnored(response.headers.map(([k, v]) => [k, show(v)]), IGNORED_RESPONSE_HEADERS),
          body: show(response.body),
          upstreams: upstreams.take(),
        });
      }
    }
    const metrics: Record<string, number> = {};
    for (const prefix of scenario.metrics ?? []) {
      // /stats shows custom metrics under Envoy's wasmcustom. namespace.
      for (const [name, value] of await envoy.stats(`^wasmcustom\\.${escapeRegex(prefix)}`)) metrics[name.replace(/^wasmcustom\./, '')] = value;
    }
    const logs = wasmLogs().slice(startupLogs.length);
    const prometheus = scenario.prometheus ? prometheusSamples(await envoy.admin('/stats/prometheus'), scenario.prometheus) : [];
    return { exchanges, metrics, prometheus, startupLogs: startupLogs.sort(), logs };
  } finally {
    await envoy.stop();
    pki?.close();
  }
}
