// One playground run: a setup (filters in order with their configurations, upstream clusters, a
// request and how many times to send it) through host-sim, and what came of it. The page and
// the Node tests run this same code, so a preset shows in the browser what it does under Node.
import { Host, PluginLoadError, type FilterTrace, type RequestSpec, type StatsTag, type StreamResult } from '../host-sim/browser.js';
import { protoStruct } from '../host-sim/attributes.js';
import { statsTagsFor } from '../cli/stats-tags.js';

export interface ChainEntry {
  /** A kit filter's name, or the file name of a module the user loaded. */
  filter: string;
  /** The plugin configuration as the user typed it (JSON text). */
  configuration: string;
}

export interface UpstreamEntry { name: string; status: number; body: string }

export interface RequestEntry {
  method: string;
  path: string;
  /** Header values may hold `{n}`, the request's number in the burst (1, 2, ...). */
  headers: [string, string][];
  body: string;
  /** The calling workload over mTLS: its SPIFFE identity and the Istio labels its peer metadata carries. */
  caller?: { identity: string; labels: Record<string, string> };
}

export interface Setup {
  chain: ChainEntry[];
  /** The first is where the route table sends a request no filter routed elsewhere. */
  upstreams: UpstreamEntry[];
  request: RequestEntry;
  /** Requests sent, and virtual time between them. */
  burst: { count: number; intervalMs: number };
}

/** What one request of the burst got. */
export interface Exchange {
  status: number;
  headers: [string, string][];
  body: string;
  /** The cluster that served it, or undefined when a filter or Envoy answered. */
  cluster?: string;
  /** Who answered instead of the upstream, with the response code details. */
  answeredBy?: string;
  /** What the upstream received. */
  upstreamHeaders?: [string, string][];
  /** What each filter did, in chain order. */
  filters: FilterTrace[];
  /** Virtual time at which it was sent (from the first request), and how long it took (ms). */
  sentAt: number;
  durationMs: number;
}

export interface Outcome {
  /** Filters the host refused to load, with the reason (the filter's own words for a bad configuration). */
  loadErrors: { filter: string; message: string }[];
  exchanges: Exchange[];
  logs: { plugin: string; level: string; message: string }[];
  /** Every metric, in Prometheus text format with the labels the names carry. */
  prometheus: string;
}

/** The proxy's own workload, as Istio's node metadata describes it. */
const NODE = { id: 'sidecar~10.0.0.2~ratings-v1.default~default.svc.cluster.local', cluster: 'ratings',
  metadata: { NAME: 'ratings-v1', NAMESPACE: 'default', WORKLOAD_NAME: 'ratings-v1', LABELS: { app: 'ratings', version: 'v1' } } };

/** The request header a routing filter names its cluster in; the route table honours it. */
const CLUSTER_HEADER = 'x-route-cluster';

export function base64(bytes: Uint8Array): string {
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}

/**
 * Stats tags for every `label=.=value;.;` segment the metric names carry (the encoding the kit's
 * filters use), so the Prometheus text shows them as labels without each filter's deployment facts.
 */
function statsTagsOf(names: string[]): StatsTag[] {
  const labels = new Set<string>();
  for (const name of names) for (const m of name.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=\.=/g)) labels.add(m[1]);
  return statsTagsFor([...labels]);
}

function requestSpec(request: RequestEntry, n: number): RequestSpec {
  const headers: [string, string][] = request.headers.filter(([k]) => k.trim() !== '').map(([k, v]) => [k.trim().toLowerCase(), v.replaceAll('{n}', String(n))]);
  const spec: RequestSpec = { method: request.method, path: request.path.replaceAll('{n}', String(n)), headers, scheme: 'https' };
  if (request.body) spec.body = request.body;
  if (request.caller) {
    spec.tls = { peerCertificate: { uriSan: request.caller.identity } };
    // Istio's filters trust peer metadata whose namespace and service account match the certificate.
    const namespace = /\/ns\/([^/]+)\//.exec(request.caller.identity)?.[1] ?? 'default';
    const account = /\/sa\/([^/]+)$/.exec(request.caller.identity)?.[1] ?? 'default';
    const peer = { NAMESPACE: namespace, SERVICE_ACCOUNT: account, WORKLOAD_NAME: request.caller.labels.app ?? 'unknown', LABELS: request.caller.labels };
    headers.push(['x-envoy-peer-metadata', base64(protoStruct(peer))]);
  }
  return spec;
}

function exchangeOf(r: StreamResult, sentAt: number, now: number): Exchange {
  return {
    status: r.status,
    headers: r.headers.filter(([k]) => k !== ':status'),
    body: r.body,
    cluster: r.upstream && !r.localReply && r.responseCodeDetails === 'via_upstream' ? r.upstream.cluster : undefined,
    answeredBy: r.localReply ? `${r.localReply.plugin} (${r.localReply.details})` : r.responseCodeDetails === 'via_upstream' ? undefined : `Envoy (${r.responseCodeDetails})`,
    upstreamHeaders: r.upstream?.headers,
    filters: r.filters,
    sentAt,
    durationMs: now - sentAt,
  };
}

/** Runs `setup` in a fresh host-sim; `module` gives each chain entry's Wasm bytes. */
export async function runSetup(setup: Setup, module: (filter: string) => Uint8Array): Promise<Outcome> {
  const upstreams = setup.upstreams.length ? setup.upstreams : [{ name: 'backend', status: 200, body: 'ok' }];
  const host = new Host({
    node: NODE,
    seed: 1,
    callTimeLimitMs: 5_000,
    clusters: Object.fromEntries(upstreams.map((u) => [u.name, () => ({ status: u.status, headers: { 'content-type': 'text/plain' }, body: u.body })])),
    routes: [
      { name: 'picked', match: { prefix: '/', headers: [{ name: CLUSTER_HEADER, present: true }] }, clusterHeader: CLUSTER_HEADER },
      { name: 'default', match: { prefix: '/' }, cluster: upstreams[0].name },
    ],
  });
  const outcome: Outcome = { loadErrors: [], exchanges: [], logs: [], prometheus: '' };
  try {
    for (const entry of setup.chain) {
      try {
        host.addPlugin({ module: module(entry.filter), name: entry.filter, rootId: entry.filter.replace(/\.wasm$/, ''), configuration: entry.configuration });
      } catch (error) {
        if (!(error instanceof PluginLoadError)) throw error;
        outcome.loadErrors.push({ filter: entry.filter, message: error.reason });
      }
    }
    if (outcome.loadErrors.length === 0) {
      const count = Math.max(1, Math.min(setup.burst.count, 1000));
      const start = host.now();
      for (let n = 1; n <= count; n++) {
        if (n > 1 && setup.burst.intervalMs > 0) await host.advance(setup.burst.intervalMs);
        const sentAt = host.now();
        const result = await host.request(requestSpec(setup.request, n), { advanceClock: true });
        outcome.exchanges.push(exchangeOf(result, sentAt - start, host.now() - start));
      }
    }
    outcome.logs = host.logs.entries.filter((e) => e.plugin !== '').map((e) => ({ plugin: e.plugin, level: e.level, message: e.message }));
    outcome.prometheus = host.prometheus(statsTagsOf(host.metrics.all().map((m) => m.name)));
    return outcome;
  } finally {
    host.close();
  }
}

/** One filter's decision on a request, in a line: what it replied or changed, or that it let it pass. */
export function decision(f: FilterTrace): string {
  const parts = [...(f.failed ? [`failed: ${f.failed}`] : []), ...(f.replied ? [`replied ${f.replied}`] : []), ...f.edits,
    ...(f.clearedRouteCache ? ['cleared the route cache'] : [])];
  return `${f.plugin}: ${parts.length ? parts.join('; ') : 'let it pass unchanged'}`;
}

/** Who served or answered an exchange, in a few words. */
export const servedBy = (e: Exchange) => (e.cluster ? `cluster ${e.cluster}` : e.answeredBy ?? 'no answer');

/** The burst in one line per outcome: "200 from cluster reviews-v1 ×99". The browser test compares it with Node's. */
export function summarize(outcome: Outcome): string[] {
  if (outcome.loadErrors.length) return outcome.loadErrors.map((e) => `${e.filter} refused: ${e.message}`);
  const counts = new Map<string, number>();
  for (const e of outcome.exchanges) {
    const line = `${e.status} from ${servedBy(e)}`;
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return [...counts].map(([line, n]) => `${line} ×${n}`);
}
