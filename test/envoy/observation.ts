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
  /** What reached upstream servers while this request ran (callouts and the routed request), in arrival order. */
  upstreams: UpstreamSeen[];
}

export interface Observation {
  /** Set when the host refused the configuration (Envoy did not start, host-sim threw PluginLoadError). */
  loadError?: string;
  exchanges: Exchange[];
  metrics: Record<string, number>;
  /** Prometheus sample lines of the scenario's families, sorted. */
  prometheus: string[];
  /** The plugins' log lines while the VMs started (`level: message`; workers start in no fixed order). */
  startupLogs: string[];
  /** The plugins' log lines while requests ran, in the order written. */
  logs: string[];
}

/**
 * Response headers whose values depend on when or how a request ran: the date, the upstream's
 * time, and the framing of the connections.
 */
export const IGNORED_RESPONSE_HEADERS = new Set(['date', 'x-envoy-upstream-service-time', 'transfer-encoding', 'connection', 'keep-alive']);

/** Request headers the upstream gets whose values are random (the request id) or framing. */
export const IGNORED_UPSTREAM_HEADERS = new Set(['x-request-id', 'transfer-encoding', 'content-length', 'connection', 'keep-alive']);

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
  .filter(([k]) => !ignored.has(k.toLowerCase()))
  .map(([k, v]) => [k, RANDOM_VALUED_HEADERS.has(k) ? v.replace(/[0-9a-f]/g, 'x') : v]);

const short = (v: unknown) => { const s = JSON.stringify(v) ?? 'nothing'; return s.length > 400 ? `${s.slice(0, 400)}…` : s; };

/** Lines of `a` not matched by a line of `b` (as multisets). */
function missingFrom(a: string[], b: string[]): string[] {
  const left = new Map<string, number>();
  for (const line of b) left.set(line, (left.get(line) ?? 0) + 1);
  return a.filter((line) => { const n = left.get(line) ?? 0; if (n > 0) { left.set(line, n - 1); return false; } return true; });
}

/** Log lines each host wrote and the other did not, or (when `ordered`) the first place their order differs. */
function diffLogs(out: string[], envoy: string[], hostSim: string[], ordered: boolean, when: string): void {
  const onlyEnvoy = missingFrom(envoy, hostSim);
  const onlyHostSim = missingFrom(hostSim, envoy);
  for (const line of onlyEnvoy) out.push(`${when} log only in envoy: ${short(line)}`);
  for (const line of onlyHostSim) out.push(`${when} log only in host-sim: ${short(line)}`);
  if (onlyEnvoy.length || onlyHostSim.length || !ordered) return;
  const at = envoy.findIndex((line, i) => line !== hostSim[i]);
  if (at >= 0) out.push(`logs in another order from line ${at + 1}: envoy ${short(envoy[at])} host-sim ${short(hostSim[at])}`);
}

function diffValue(out: string[], what: string, envoy: unknown, hostSim: unknown): void {
  if (JSON.stringify(envoy) !== JSON.stringify(hostSim)) out.push(`${what}: envoy ${short(envoy)} host-sim ${short(hostSim)}`);
}

/** Sample lines of the named families in a Prometheus text exposition, sorted. */
export function prometheusSamples(text: string, families: string[]): string[] {
  return text.split('\n')
    .filter((line) => !line.startsWith('#') && families.some((f) => line.startsWith(`${f}{`) || line.startsWith(`${f} `)))
    .sort();
}

/** How far apart (ms) the two hosts' count of the router's time left may be: it is real time in both. */
const COUNTDOWN_TOLERANCE_MS = 150;

/**
 * host-sim's request with Envoy's value of x-envoy-expected-rq-timeout-ms when the two are within
 * the tolerance: on a retry the router announces the time left, which depends on how long the
 * earlier attempts took.
 */
function withCountdownOf(hostSim: UpstreamSeen, envoy: UpstreamSeen | undefined): UpstreamSeen {
  const name = 'x-envoy-expected-rq-timeout-ms';
  const theirs = envoy?.headers.find(([k]) => k === name)?.[1];
  if (theirs === undefined) return hostSim;
  const close = (v: string) => Math.abs(Number(v) - Number(theirs)) <= COUNTDOWN_TOLERANCE_MS;
  return { ...hostSim, headers: hostSim.headers.map(([k, v]) => [k, k === name && close(v) ? theirs : v]) };
}

/** Every difference between the two observations, one line each (empty when they agree). */
export function compare(envoy: Observation, hostSim: Observation, options: { logs: boolean; mask?: string[] }): string[] {
  const out: string[] = [];
  const masks = (options.mask ?? []).map((m) => new RegExp(m, 'g'));
  const masked = (lines: string[]) => lines.map((line) => masks.reduce((text, m) => text.replace(m, '<masked>'), line));
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
    const m = Math.max(e.upstreams.length, h.upstreams.length);
    for (let j = 0; j < m; j++) diffValue(out, `${at} upstream request ${j + 1}`, e.upstreams[j], h.upstreams[j] && withCountdownOf(h.upstreams[j], e.upstreams[j]));
  }
  const sorted = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)));
  diffValue(out, 'metrics', sorted(envoy.metrics), sorted(hostSim.metrics));
  for (const line of missingFrom(envoy.prometheus, hostSim.prometheus)) out.push(`prometheus only in envoy: ${line}`);
  for (const line of missingFrom(hostSim.prometheus, envoy.prometheus)) out.push(`prometheus only in host-sim: ${line}`);
  if (options.logs) {
    diffLogs(out, masked(envoy.startupLogs), masked(hostSim.startupLogs), false, 'startup');
    diffLogs(out, masked(envoy.logs), masked(hostSim.logs), true, 'request');
  }
  return out;
}
