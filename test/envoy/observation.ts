// What one host did with a scenario, in a form both hosts produce alike, and the comparison.
// Envoy adds some headers by itself that host-sim does not model; only these are ignored.

export interface UpstreamSeen {
  cluster: string;
  method: string;
  path: string;
  authority: string;
  headers: [string, string][];
  body: string;
}

export interface Exchange {
  status: number;
  headers: [string, string][];
  body: string;
  upstream?: UpstreamSeen;
}

export interface Observation {
  /** Set when the host refused the configuration (Envoy did not start, host-sim threw PluginLoadError). */
  loadError?: string;
  exchanges: Exchange[];
  metrics: Record<string, number>;
  /** The plugins' log lines as `level: message`, sorted (workers run in no fixed order). */
  logs: string[];
}

/**
 * Response headers Envoy's connection manager and router add by themselves: the date and server,
 * the upstream time, and the framing of the client connection.
 */
export const IGNORED_RESPONSE_HEADERS = new Set(['date', 'server', 'x-envoy-upstream-service-time', 'transfer-encoding', 'connection', 'keep-alive']);

/**
 * Request headers Envoy's router adds towards the upstream: forwarding information, the request
 * id (host-sim makes its own), the route timeout hint, and the framing of the upstream connection.
 */
export const IGNORED_UPSTREAM_HEADERS = new Set(['x-forwarded-proto', 'x-request-id', 'x-envoy-expected-rq-timeout-ms', 'transfer-encoding', 'content-length', 'connection', 'keep-alive']);

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes as text when they are UTF-8, else as hex, so a difference in any byte shows. */
export function show(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return `<bytes ${Buffer.from(bytes).toString('hex')}>`;
  }
}

/**
 * Headers whose values are random by design (a trace context a filter starts): compared by shape,
 * every hex digit masked, so their format and presence still count.
 */
export const RANDOM_VALUED_HEADERS = new Set(['traceparent']);

export const withoutIgnored = (headers: [string, string][], ignored: Set<string>): [string, string][] => headers
  .filter(([k]) => !ignored.has(k))
  .map(([k, v]) => [k, RANDOM_VALUED_HEADERS.has(k) ? v.replace(/[0-9a-f]/g, 'x') : v]);

const short = (v: unknown) => { const s = JSON.stringify(v); return s.length > 300 ? `${s.slice(0, 300)}…` : s; };

function diffValue(out: string[], what: string, envoy: unknown, hostSim: unknown): void {
  if (JSON.stringify(envoy) !== JSON.stringify(hostSim)) out.push(`${what}: envoy ${short(envoy)} host-sim ${short(hostSim)}`);
}

/** Every difference between the two observations, one line each (empty when they agree). */
export function compare(envoy: Observation, hostSim: Observation, options: { logs: boolean }): string[] {
  const out: string[] = [];
  if (Boolean(envoy.loadError) !== Boolean(hostSim.loadError)) {
    out.push(`configuration: envoy ${envoy.loadError ? `refused it (${envoy.loadError})` : 'accepted it'}, host-sim ${hostSim.loadError ? `refused it (${hostSim.loadError})` : 'accepted it'}`);
    return out;
  }
  const n = Math.max(envoy.exchanges.length, hostSim.exchanges.length);
  for (let i = 0; i < n; i++) {
    const e = envoy.exchanges[i];
    const h = hostSim.exchanges[i];
    const at = `request ${i + 1}`;
    if (!e || !h) { out.push(`${at}: only ${e ? 'envoy' : 'host-sim'} answered`); continue; }
    diffValue(out, `${at} status`, e.status, h.status);
    diffValue(out, `${at} response headers`, e.headers, h.headers);
    diffValue(out, `${at} response body`, e.body, h.body);
    diffValue(out, `${at} upstream`, e.upstream, h.upstream);
  }
  diffValue(out, 'metrics', envoy.metrics, hostSim.metrics);
  if (options.logs) diffValue(out, 'logs', envoy.logs, hostSim.logs);
  return out;
}
