// wfk run: requests through one or more filters in host-sim, from the shell, reporting what
// each filter did to the request and the response.
import { readFileSync } from 'node:fs';
import { Host, type ClusterInput, type HttpHandler, type RequestSpec, type Route, type StatsTag, type StreamResult } from '../host-sim/index.js';
import { describeSystemError } from './errors.js';
import { loadDeployment, type Configuration, type FilterDeployment } from './deployment.js';
import { moduleFor } from './paths.js';

export interface RunOptions {
  configs: string[];
  request?: string;
  method?: string;
  path?: string;
  header: string[];
  body?: string;
  workers: number;
  count: number;
  upstream?: string;
  rootId?: string;
}

export class RunError extends Error {}

interface Change { added: [string, string][]; removed: [string, string][] }

function diff(before: [string, string][], after: [string, string][]): Change {
  const key = ([k, v]: [string, string]) => `${k}\0${v}`;
  const b = new Set(before.map(key));
  const a = new Set(after.map(key));
  return { added: after.filter((h) => !b.has(key(h))), removed: before.filter((h) => !a.has(key(h))) };
}

function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':', text.startsWith(':') ? 1 : 0);
  if (colon <= 0) throw new RunError(`header "${text}" must look like "name: value"`);
  return [text.slice(0, colon).trim().toLowerCase(), text.slice(colon + 1).trim()];
}

function requestsFrom(options: RunOptions): RequestSpec[] {
  if (options.request) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(options.request, 'utf8'));
    } catch (e) {
      throw new RunError(`cannot read the request file ${options.request}: ${(e as Error).message}`);
    }
    return Array.isArray(parsed) ? parsed as RequestSpec[] : [parsed as RequestSpec];
  }
  return [{ method: options.method ?? 'GET', path: options.path ?? '/', headers: options.header.map(parseHeader), body: options.body }];
}

export interface RunReport {
  request: RequestSpec;
  status: number;
  decidedBy: string;
  /** Each filter, in chain order: passed, answered (a local reply), or not reached. */
  filters: { name: string; decision: string }[];
  cluster?: string;
  upstreamHeaders: Change;
  responseHeaders: Change;
  body: string;
  stalled?: string;
}

/** Runs the requests; returns one report per request, plus the logs and metrics. */
export async function runFilters(targets: string[], options: RunOptions): Promise<{ reports: RunReport[]; logs: string[]; metrics: string }> {
  if (targets.length === 0) throw new RunError('name at least one filter or .wasm module');
  if (options.configs.length > targets.length) throw new RunError(`${options.configs.length} --config files for ${targets.length} filters`);
  const modules = await Promise.all(targets.map(async (target, i) => {
    const { path, rootId, filter } = moduleFor(target);
    let configuration: string | undefined;
    if (options.configs[i]) {
      try {
        configuration = readFileSync(options.configs[i], 'utf8');
      } catch (e) {
        throw new RunError(`cannot read the configuration ${options.configs[i]}: ${describeSystemError(e)}`);
      }
    }
    // A .wasm file has no deployment facts: it runs behind the default route alone.
    const deployment: FilterDeployment | undefined = filter ? await loadDeployment(filter) : undefined;
    return { path, rootId, configuration, deployment };
  }));
  const upstreamResponses = new Map<number, [string, string][]>();
  let nextId = 0;
  const echoRequest: HttpHandler = (req) => {
    const id = nextId++;
    const headers: [string, string][] = [['content-type', 'application/json'], ['x-upstream-request', String(id)]];
    upstreamResponses.set(id, headers);
    return { status: 200, headers, body: JSON.stringify({ headers: Object.fromEntries(req.headers), body: new TextDecoder().decode(req.body) }) };
  };
  const echo: ClusterInput = options.upstream ?? echoRequest;
  // Like the bootstrap `wfk envoy-config` prints: the clusters a configuration names exist, and
  // a filter that routes by header gets a cluster_header route; everything else goes to "upstream".
  const clusters: Record<string, ClusterInput> = { upstream: echo };
  const routes: Route[] = [{ name: 'default', match: { prefix: '/' }, cluster: 'upstream' }];
  const statsTags: StatsTag[] = [];
  for (const m of modules) {
    if (!m.deployment || m.configuration === undefined) continue;
    let parsed: unknown;
    try { parsed = JSON.parse(m.configuration); } catch { continue; } // the filter itself reports bad JSON
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) continue; // and a configuration that is not an object
    const configuration = parsed as Configuration;
    for (const need of m.deployment.clusters?.(configuration) ?? []) clusters[need.name] = echo;
    const header = m.deployment.clusterHeader?.(configuration);
    if (header) routes.unshift({ name: `by-${header}`, match: { prefix: '/', headers: [{ name: header, present: true }] }, clusterHeader: header });
    statsTags.push(...m.deployment.statsTags?.(configuration) ?? []);
  }
  const host = new Host({ workers: options.workers, clusters, routes });
  try {
    for (const m of modules) {
      host.addPlugin({ module: m.path, rootId: options.rootId && targets.length === 1 ? options.rootId : m.rootId, name: m.rootId, configuration: m.configuration });
    }
    const reports: RunReport[] = [];
    const requests = requestsFrom(options);
    for (let n = 0; n < options.count; n++) {
      for (const spec of requests) {
        const r: StreamResult = await host.request(spec, { advanceClock: true });
        const sent: [string, string][] = [[':method', spec.method ?? 'GET'], [':path', spec.path ?? '/'],
          ...(Array.isArray(spec.headers) ? spec.headers : Object.entries(spec.headers ?? {})).map(([k, v]) => [k, String(v)] as [string, string])];
        const upstreamId = r.headers.find(([k]) => k === 'x-upstream-request')?.[1];
        const fromUpstream: [string, string][] = [[':status', '200'], ...(upstreamId !== undefined ? upstreamResponses.get(Number(upstreamId)) ?? [] : [])];
        const answeredAt = r.localReply ? host.plugins.findIndex((p) => p.name === r.localReply!.plugin) : -1;
        reports.push({
          request: spec,
          status: r.status,
          filters: host.plugins.map((p, i) => ({
            name: p.name,
            decision: answeredAt < 0 ? 'passed' : i < answeredAt ? 'passed' : i === answeredAt ? `answered ${r.localReply!.status} (${r.localReply!.details})` : 'not reached',
          })),
          decidedBy: r.localReply ? `${r.localReply.plugin} (${r.localReply.details})` : r.upstream ? 'upstream' : 'nobody',
          cluster: r.upstream?.cluster,
          upstreamHeaders: r.upstream ? diff(sent.filter(([k]) => k !== ':authority' && k !== ':scheme'), r.upstream.headers.filter(([k]) => k !== ':authority' && k !== ':scheme' && k !== 'x-request-id')) : { added: [], removed: [] },
          responseHeaders: r.localReply ? { added: r.headers, removed: [] } : diff(fromUpstream, r.headers),
          body: r.body,
          stalled: r.stalled?.description,
        });
      }
    }
    return { reports, logs: host.logs.entries.map((e) => `[${e.level}] ${e.plugin}: ${e.message}`), metrics: host.prometheus(statsTags) };
  } finally {
    host.close();
  }
}

export function formatRun(result: Awaited<ReturnType<typeof runFilters>>): string {
  const out: string[] = [];
  const show = (label: string, change: Change) => {
    for (const [k, v] of change.added) out.push(`  ${label} + ${k}: ${v}`);
    for (const [k, v] of change.removed) out.push(`  ${label} - ${k}: ${v}`);
  };
  for (const r of result.reports) {
    out.push(`${r.request.method ?? 'GET'} ${r.request.path ?? '/'} -> ${r.status}, decided by ${r.decidedBy}${r.cluster ? `, cluster ${r.cluster}` : ''}`);
    out.push(`  filters: ${r.filters.map((f) => `${f.name} ${f.decision}`).join(', ')}`);
    if (r.stalled) out.push(`  stalled: ${r.stalled}`);
    show('upstream ', r.upstreamHeaders);
    show('response ', r.responseHeaders);
  }
  if (result.logs.length) out.push('', 'logs:', ...result.logs.map((l) => `  ${l}`));
  if (result.metrics) out.push('', 'metrics:', ...result.metrics.trim().split('\n').map((l) => `  ${l}`));
  return out.join('\n');
}
