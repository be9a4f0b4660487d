// wfk fuzz: random and malformed requests (and, if asked, configurations) through a filter in
// host-sim, looking for what must never happen: a trap, a call that never returns, a stream
// that stalls for good, linear memory that keeps growing, metric names that are not valid
// UTF-8 or span lines, log lines that should be JSON and are not, and configurations the
// filter's JSON Schema refuses but the filter accepts. Each finding comes with the seed and a
// reproducer shrunk to what still triggers it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { Host, ModuleTimeoutError, PluginLoadError, type RequestSpec } from '../host-sim/index.js';
import { protoStruct } from '../host-sim/attributes.js';
import { randomSource, type RandomSource } from '../host-sim/random.js';
import { FILTERS_DIR, moduleFor } from './paths.js';

export class FuzzError extends Error {}

export interface FuzzOptions {
  /** The filter's configuration (JSON text). */
  configuration: string;
  requests: number;
  seed: number;
  /** Mutated configurations to try as well (0: none). */
  configs: number;
  rootId?: string;
  /** Time limit of one call into the module, in ms. */
  callTimeLimitMs: number;
}

export interface Finding { kind: string; detail: string; reproducer: unknown }

export interface FuzzReport { target: string; seed: number; requests: number; configs: number; findings: Finding[] }

type Random = RandomSource;

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'BREW', ''];
const PATH_PARTS = ['admin', 'api', 'v1', 'items', '..', '.', '', '%2e%2e', '%2F', '%61dmin', '%00', '%zz', '\\', ';x=1', 'é', '中', '😀', '{id}', '*'];
const TEXT = ['a', 'Z', '0', ' ', '\t', '"', '\\', ';', '=', ',', '.', '/', '%', 'é', '中', '😀', '\u0000', '\u007f', '\ud800'];
const HEADER_NAMES = ['x-user', 'x-api-key', 'x-tenant', 'cookie', 'user-agent', 'authorization', 'x-envoy-peer-metadata', 'x-forwarded-client-cert',
  'x-route-cluster', 'x-jwt-payload', 'content-type', 'x-request-id', 'traceparent', 'tracestate', 'x-chaos', 'x-user-id', 'grpc-timeout'];

function text(r: Random, max: number): string {
  let out = '';
  for (let n = r.int(max); n > 0; n--) out += r.pick(TEXT);
  return out;
}

/** Header value bytes: text, raw bytes (some not UTF-8), huge, or a peer metadata blob. */
function headerValue(r: Random): string | Uint8Array {
  switch (r.int(8)) {
    case 0: return Uint8Array.from({ length: r.int(40) }, () => 1 + r.int(255)).filter((b) => b !== 10 && b !== 13);
    case 1: return 'v'.repeat(r.int(50_000));
    case 2: {
      const labels: Record<string, unknown> = { app: text(r, 10), version: r.pick(['v1', 'v3', text(r, 5)]) };
      let nested: unknown = labels;
      for (let d = r.int(3) === 0 ? r.int(80) : 0; d > 0; d--) nested = { n: nested };
      return Buffer.from(protoStruct({ NAMESPACE: 'bookinfo', SERVICE_ACCOUNT: text(r, 6), LABELS: nested })).toString('base64');
    }
    case 3: return Buffer.from(Uint8Array.from({ length: r.int(60) }, () => r.int(256))).toString('base64');
    default: return text(r, 40);
  }
}

function randomRequest(r: Random): RequestSpec {
  const segments = Array.from({ length: r.int(6) }, () => (r.int(3) === 0 ? text(r, 8) : r.pick(PATH_PARTS)));
  const query = r.int(4) === 0 ? `?${text(r, 12)}&k=${text(r, 6)}` : '';
  const headers: [string, string | Uint8Array][] = [];
  for (let n = r.int(8); n > 0; n--) headers.push([r.int(6) === 0 ? `x-${text(r, 6).toLowerCase().replace(/[^a-z0-9-]/g, 'q') || 'q'}` : r.pick(HEADER_NAMES), headerValue(r)]);
  const spec: RequestSpec = {
    method: r.pick(METHODS),
    path: `/${segments.join('/')}${query}`,
    authority: r.int(5) === 0 ? text(r, 20) || 'h' : r.pick(['example.com', 'Example.COM:8080', 'svc.internal', '[::1]:80']),
    headers,
    source: `${r.int(256)}.${r.int(256)}.${r.int(256)}.${r.int(256)}:${r.int(65536)}`,
  };
  if (r.int(4) === 0) spec.body = r.int(2) === 0 ? text(r, 200) : Array.from({ length: 1 + r.int(4) }, () => text(r, 100));
  if (r.int(3) === 0) spec.tls = r.int(2) === 0 ? {} : { peerCertificate: { uriSan: r.pick(['spiffe://cluster.local/ns/bookinfo/sa/reviews', `spiffe://${text(r, 10)}`, text(r, 20)]) } };
  if (r.int(4) === 0) spec.dynamicMetadata = { 'envoy.filters.http.jwt_authn': { jwt_payload: r.int(2) === 0 ? { iss: text(r, 10), sub: text(r, 5), exp: r.next() * 4e9, groups: [text(r, 4)] } : text(r, 5) } };
  if (r.int(10) === 0) spec.protocol = 'HTTP/2';
  return spec;
}

/** A configuration changed in one random place: a value replaced, a key dropped or an unknown one added. */
function mutate(r: Random, config: unknown): unknown {
  const copy = structuredClone(config);
  const nodes: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach((v, i) => { nodes.push({ parent: value, key: i }); walk(v); });
    else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) { nodes.push({ parent: value as Record<string, unknown>, key: k }); walk(v); }
  };
  walk(copy);
  const replacements = (): unknown => r.pick([null, true, -1, 0, 1e12, 0.5, '', text(r, 12), 'x'.repeat(5000), [], {}, [text(r, 3)], { [text(r, 4)]: 1 }]);
  if (nodes.length === 0) return replacements();
  const { parent, key } = r.pick(nodes);
  const action = r.int(3);
  if (action === 0 && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
  else if (action === 1 && !Array.isArray(parent)) (parent as Record<string, unknown>)[`unknown_${text(r, 4)}`] = replacements();
  else (parent as Record<string | number, unknown>)[key as never] = replacements();
  return copy;
}

/** Whether the metric names defined and the log lines written since `from` are well formed. */
function outputProblems(host: Host, from: Cursor): string[] {
  const problems: string[] = [];
  const strict = new TextDecoder('utf-8', { fatal: true });
  const metrics = host.metrics.all();
  const fromLog = from.logs;
  const fresh = metrics.slice(from.metrics);
  from.metrics = metrics.length;
  for (const metric of fresh) {
    const bytes = new TextEncoder().encode(metric.name);
    if (/[\u0000-\u001f\u007f]/.test(metric.name) || /[\ud800-\udfff]/.test(metric.name)) problems.push(`metric name is not printable UTF-8: ${JSON.stringify(metric.name)}`);
    else strict.decode(bytes);
  }
  for (const entry of host.logs.entries.slice(fromLog)) {
    if (entry.plugin === '' || !entry.message.startsWith('{')) continue;
    try { JSON.parse(entry.message); } catch { problems.push(`log line is not JSON: ${entry.message.slice(0, 200)}`); }
  }
  return problems;
}

interface Target { module: string; rootId: string; schema?: object }

function targetFor(target: string, rootId?: string): Target {
  const found = moduleFor(target);
  return { module: found.path, rootId: rootId ?? (found.filter ?? ''),
    schema: found.filter ? JSON.parse(readFileSync(join(FILTERS_DIR, found.filter, 'schema.json'), 'utf8')) : undefined };
}

/** One request in a fresh host: what goes wrong, if anything. */
async function tryRequest(t: Target, configuration: string, options: FuzzOptions, spec: RequestSpec): Promise<string | undefined> {
  const host = new Host({ workers: 1, callTimeLimitMs: options.callTimeLimitMs, clusters: { backend: () => ({ status: 200, body: 'ok' }) } });
  try {
    host.addPlugin({ module: t.module, rootId: t.rootId, configuration });
    return await check(host, spec, { metrics: 0, logs: 0 });
  } finally {
    host.close();
  }
}

/** Where the last check stopped reading the host's metrics and logs. */
interface Cursor { metrics: number; logs: number }

async function check(host: Host, spec: RequestSpec, from: Cursor): Promise<string | undefined> {
  from.logs = host.logs.entries.length;
  let stalled = false;
  try {
    const stream = host.startRequest(spec);
    stalled = (await host.wait(stream, { advanceClock: true, maxAdvanceMs: 600_000 })).stalled !== undefined;
  } catch (e) {
    if (e instanceof ModuleTimeoutError) return `hang: ${e.message}`;
    throw e;
  }
  for (const plugin of host.plugins) for (const vm of plugin.vms) if (vm.failed) return `trap: ${vm.failure}`;
  if (stalled) return 'stall: the stream never finished, even with the clock advanced 10 minutes';
  const problems = outputProblems(host, from);
  return problems.length ? `invalid output: ${problems[0]}` : undefined;
}

/** Drops headers, body and TLS and shortens values while the same kind of finding remains. */
async function shrink(t: Target, configuration: string, options: FuzzOptions, spec: RequestSpec, kind: string): Promise<RequestSpec> {
  const same = async (candidate: RequestSpec) => (await tryRequest(t, configuration, options, candidate))?.split(':')[0] === kind;
  let best = structuredClone(spec);
  const candidates = (s: RequestSpec): RequestSpec[] => {
    const out: RequestSpec[] = [];
    const headers = (s.headers ?? []) as [string, string | Uint8Array][];
    headers.forEach((_, i) => out.push({ ...s, headers: headers.filter((__, j) => j !== i) }));
    headers.forEach(([k, v], i) => {
      if (v.length > 1) out.push({ ...s, headers: headers.map((h, j) => (j === i ? [k, v.slice(0, Math.ceil(v.length / 2))] : h)) as [string, string | Uint8Array][] });
    });
    if (s.body !== undefined) out.push({ ...s, body: undefined });
    if (s.tls) out.push({ ...s, tls: undefined });
    if (s.dynamicMetadata) out.push({ ...s, dynamicMetadata: undefined });
    if ((s.path ?? '/').length > 1) out.push({ ...s, path: (s.path ?? '/').slice(0, Math.ceil((s.path ?? '/').length / 2)) || '/' });
    return out;
  };
  for (let budget = 200; budget > 0;) {
    let improved = false;
    for (const candidate of candidates(best)) {
      if (--budget <= 0) break;
      if (await same(candidate)) { best = candidate; improved = true; break; }
    }
    if (!improved) break;
  }
  return best;
}

/** A reproducer as JSON: byte values become {hex}. */
function printable(spec: RequestSpec): unknown {
  return JSON.parse(JSON.stringify(spec, (_k, v) => (v instanceof Uint8Array ? { hex: Buffer.from(v).toString('hex') } : v)));
}

export async function fuzz(target: string, options: FuzzOptions, progress: (line: string) => void = () => {}): Promise<FuzzReport> {
  const t = targetFor(target, options.rootId);
  const report: FuzzReport = { target, seed: options.seed, requests: options.requests, configs: options.configs, findings: [] };
  const r = randomSource(options.seed);
  const host = new Host({ workers: 2, callTimeLimitMs: options.callTimeLimitMs, clusters: { backend: () => ({ status: 200, body: 'ok' }) } });
  try {
    try {
      host.addPlugin({ module: t.module, rootId: t.rootId, configuration: options.configuration });
    } catch (e) {
      if (e instanceof PluginLoadError) throw new FuzzError(`the filter refuses the configuration: ${e.message}`);
      throw e;
    }
    const memory = () => host.plugins.flatMap((p) => p.vms).reduce((n, vm) => n + vm.memory.buffer.byteLength, 0);
    const cursor: Cursor = { metrics: 0, logs: 0 };
    for (let i = 0; i < options.requests && report.findings.length === 0; i++) {
      const spec = randomRequest(r);
      const problem = await check(host, spec, cursor);
      if (problem) {
        const kind = problem.split(':')[0];
        progress(`request ${i + 1}: ${problem}; shrinking the reproducer ...`);
        const minimal = await tryRequest(t, options.configuration, options, spec) ? await shrink(t, options.configuration, options, spec, kind) : spec;
        report.findings.push({ kind, detail: problem, reproducer: printable(minimal) });
      }
      if ((i + 1) % 1000 === 0) progress(`${i + 1} requests`);
    }
    // A leak: requests the filter has already seen make memory grow again (state keyed by what
    // a request carries may fill up to its bounds; a replay needs no new state).
    // The collector's heap grows in steps, so a replay may still grow it once or twice; memory
    // that grows in every one of four replays is a leak.
    const replayed = Math.min(options.requests, 2_000);
    if (report.findings.length === 0) {
      const sizes = [memory()];
      for (let round = 0; round < 4 && (sizes.length < 2 || sizes[sizes.length - 1] > sizes[sizes.length - 2]); round++) {
        const again = randomSource(options.seed);
        for (let i = 0; i < replayed; i++) await check(host, randomRequest(again), cursor);
        sizes.push(memory());
      }
      if (sizes.length === 5 && sizes[4] > sizes[3]) {
        report.findings.push({ kind: 'memory', detail: `linear memory grew in each of 4 replays of requests already served (${sizes.join(' -> ')} bytes)`,
          reproducer: { seed: options.seed, requests: replayed } });
      }
    }
  } finally {
    host.close();
  }
  if (options.configs > 0) report.findings.push(...await fuzzConfigurations(t, options, r, progress));
  return report;
}

/** Mutated configurations: none may trap or hang the filter, and none the schema refuses may be accepted. */
async function fuzzConfigurations(t: Target, options: FuzzOptions, r: Random, progress: (line: string) => void): Promise<Finding[]> {
  const findings: Finding[] = [];
  const validate = t.schema ? new Ajv2020({ allErrors: false, strict: false }).compile(t.schema) : undefined;
  const base = JSON.parse(options.configuration);
  for (let i = 0; i < options.configs && findings.length < 5; i++) {
    const config = mutate(r, base);
    const host = new Host({ callTimeLimitMs: options.callTimeLimitMs });
    let accepted = false;
    try {
      host.addPlugin({ module: t.module, rootId: t.rootId, configuration: JSON.stringify(config) });
      accepted = true;
    } catch (e) {
      if (e instanceof ModuleTimeoutError) findings.push({ kind: 'hang', detail: `configuring: ${e.message}`, reproducer: config });
      else if (!(e instanceof PluginLoadError)) throw e;
      else if (/trapped|failed:/.test(e.message)) findings.push({ kind: 'trap', detail: `configuring: ${e.message}`, reproducer: config });
    } finally {
      host.close();
    }
    if (accepted && validate && !validate(config)) {
      const why = validate.errors?.[0];
      findings.push({ kind: 'schema', detail: `the schema refuses it (${why?.instancePath || '/'} ${why?.message}) but the filter accepts it`, reproducer: config });
    }
    if ((i + 1) % 100 === 0) progress(`${i + 1} configurations`);
  }
  return findings;
}

export function formatFuzz(report: FuzzReport): string {
  const head = `fuzz ${report.target}: ${report.requests} requests${report.configs ? ` and ${report.configs} configurations` : ''}, seed ${report.seed}`;
  if (report.findings.length === 0) return `${head}: clean`;
  return [`${head}: ${report.findings.length} finding(s)`, ...report.findings.map((f) =>
    `  ${f.kind}: ${f.detail}\n    reproducer: ${JSON.stringify(f.reproducer)}\n    replay: --seed ${report.seed}`)].join('\n');
}
