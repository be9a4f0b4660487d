// npm run bench:envoy: what each filter adds to a request in real Envoy (one worker), against
// Envoy's native equivalent where stock Envoy has one, and the peer spec filter built with each
// SDK against the Rust SDK's, measured in one run. A load generator
// (autocannon) holds a fixed number of connections for a fixed time; the upstream is a second
// listener of the same Envoy answering with a direct response, so the only difference between
// runs is the filter. Reported: requests/s, p50/p99 latency, and the Envoy process's CPU time per
// request (from /proc) with what it adds over no filter and over the native equivalent;
// `--write-readme` puts the table in README.md.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { KIT } from '../cli/paths.js';
import { EnvoyProcess, envoyMissingReason, findEnvoy } from '../cli/envoy/process.js';
import { cluster, httpBootstrap, wasmFilter } from '../cli/envoy/resources.js';
import { buildKitFilters } from '../cli/build.js';
import { freePort } from '../test/support/ports.js';
import { buildPeerModules } from './peer-modules.js';
import { WRITE_README, writeReadmeSection } from './readme.js';

type Json = Record<string, unknown>;

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);

/**
 * One run's setup. `baseline` names the case its added cost is measured from (default: no
 * filter), `reference` the case whose added cost it is compared with; `blocked` cases expect 403.
 */
interface Case { label: string; filters: Json[]; routes?: Json[]; baseline?: string; reference?: string; blocked?: boolean }

const NO_FILTER = 'no filter';
const ENVOY_403 = 'no filter, Envoy answers 403 (direct_response)';

type Peer = Awaited<ReturnType<typeof buildPeerModules>>[number];

const typed = (type: string, config: Json) => ({ '@type': `type.googleapis.com/${type}`, ...config });
const wasm = (filter: string, configuration: Json) => wasmFilter({ filter, configuration, modulePath: join(KIT.distDir, `${filter}.wasm`) });

/** The peer spec filter with each SDK, on both of its paths; compared with the Rust SDK's. */
function peerCases(peers: Peer[]): Case[] {
  const filter = (p: Peer) => [wasmFilter({ filter: 'peer', rootId: p.rootId, modulePath: p.module, configuration: {} })];
  return [
    // The blocked path never reaches the upstream: its baseline is Envoy answering 403 itself.
    { label: ENVOY_403, blocked: true, filters: [], routes: [{ match: { prefix: '/' }, direct_response: { status: 403, body: { inline_string: 'blocked\n' } } }] },
    ...[false, true].flatMap((blocked) => peers.map((p) => ({
      label: `peer ${blocked ? 'blocked' : 'pass'}: ${p.sdk}`, blocked, filters: filter(p), baseline: blocked ? ENVOY_403 : NO_FILTER,
      reference: p.sdk.startsWith('Rust') ? undefined : `peer ${blocked ? 'blocked' : 'pass'}: Rust SDK`,
    }))),
  ];
}

/** The cases: no filter, each of ours and Envoy's native equivalents, the SDK peers. */
function cases(peers: Peer[]): Case[] {
  const toBackend = [{ match: { prefix: '/' }, route: { cluster: 'backend' } }];
  const canaryRoutes = [
    { match: { prefix: '/', headers: [{ name: 'x-canary', string_match: { exact: 'yes' } }] }, route: { cluster: 'canary' } },
    ...toBackend,
  ];
  return [
    { label: NO_FILTER, filters: [] },
    { label: 'add-header', reference: 'native: header_mutation', filters: [wasm('add-header', { request_headers: { 'x-env': 'prod' }, response_headers: { 'x-served-by': 'edge' } })] },
    { label: 'native: header_mutation', filters: [{ name: 'envoy.filters.http.header_mutation', typed_config: typed('envoy.extensions.filters.http.header_mutation.v3.HeaderMutation', {
      mutations: { request_mutations: [{ append: { header: { key: 'x-env', value: 'prod' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' } }],
        response_mutations: [{ append: { header: { key: 'x-served-by', value: 'edge' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' } }] } }) }] },
    { label: 'rate-quota', reference: 'native: local_ratelimit', filters: [wasm('rate-quota', { dimensions: { everyone: { constant: 'all' } }, quotas: [{ name: 'all', dimensions: ['everyone'], max_amount: 1_000_000_000, valid_duration: '1s' }] })] },
    { label: 'native: local_ratelimit', filters: [{ name: 'envoy.filters.http.local_ratelimit', typed_config: typed('envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit', {
      // rate-quota answers with the x-ratelimit-* headers by default: the native filter is asked for them too.
      stat_prefix: 'bench', enable_x_ratelimit_headers: 'DRAFT_VERSION_03',
      token_bucket: { max_tokens: 1_000_000_000, tokens_per_fill: 1_000_000_000, fill_interval: '1s' },
      filter_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' } }, filter_enforced: { default_value: { numerator: 100, denominator: 'HUNDRED' } } }) }] },
    { label: 'access-control', reference: 'native: rbac', filters: [wasm('access-control', { policies: [
      { name: 'no-admin', action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin/{**}'] } }] }] },
      { name: 'readers', action: 'ALLOW', rules: [{ to: [{ operation: { methods: ['GET'], paths: ['/reviews/{**}'] } }] }] }] })] },
    { label: 'native: rbac', filters: [
      { name: 'envoy.filters.http.rbac/deny', typed_config: typed('envoy.extensions.filters.http.rbac.v3.RBAC', { rules: { action: 'DENY', policies: { 'no-admin': {
        permissions: [{ url_path: { path: { prefix: '/admin/' } } }], principals: [{ any: true }] } } } }) },
      { name: 'envoy.filters.http.rbac/allow', typed_config: typed('envoy.extensions.filters.http.rbac.v3.RBAC', { rules: { action: 'ALLOW', policies: { readers: {
        permissions: [{ and_rules: { rules: [{ header: { name: ':method', string_match: { exact: 'GET' } } }, { url_path: { path: { prefix: '/reviews/' } } }] } }],
        principals: [{ any: true }] } } } }) }] },
    { label: 'header-routing', reference: 'native: route header match', routes: [
      { match: { prefix: '/', headers: [{ name: 'x-route-cluster', present_match: true }] }, route: { cluster_header: 'x-route-cluster' } }, ...toBackend],
    filters: [wasm('header-routing', { rules: [{ name: 'canary', match: { headers: [{ name: 'x-canary', exact: 'yes' }] }, targets: [{ cluster: 'canary' }] }] })] },
    { label: 'native: route header match', routes: canaryRoutes, filters: [] },
    { label: 'telemetry', filters: [wasm('telemetry', { access_log: false })] },
    // Closed: each request is admitted and its success recorded. Open: the warm-up's first 200
    // counts as a failure and opens the circuit for an hour; every request then gets the fallback.
    { label: 'circuit-breaker (closed)', filters: [wasm('circuit-breaker', { trip: { consecutive_failures: 5 } })] },
    { label: 'circuit-breaker (open: fallback reply)', blocked: true, baseline: ENVOY_403, filters: [wasm('circuit-breaker', {
      trip: { consecutive_failures: 1 }, open: { duration: '1h' }, failures: { statuses: [200] },
      fallback: { local_response: { status: 403, body: 'circuit open\n' } } })] },
    ...peerCases(peers),
  ];
}

/** CPU time the process has had, in µs (utime + stime from /proc, in clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

async function measure(c: Case, upstreamPort: number): Promise<{ rps: number; p50: number; p99: number; cpuPerRequest: number }> {
  const bootstrap = httpBootstrap({
    admin: { address: '127.0.0.1', port: 0 }, listener: { address: '127.0.0.1', port: 0 },
    routeName: 'bench', virtualHost: 'bench', routes: c.routes ?? [{ match: { prefix: '/' }, route: { cluster: 'backend' } }],
    filters: c.filters.map((f) => ({ ...f, name: String(f.name).replace(/\/.*$/, '') })),
    clusters: [cluster('backend', '127.0.0.1', upstreamPort, false, 'STATIC'), cluster('canary', '127.0.0.1', upstreamPort, false, 'STATIC')],
  }) as { static_resources: { listeners: Json[] } };
  // The upstream: a second listener answering 200 itself.
  bootstrap.static_resources.listeners.push({
    name: 'upstream', address: { socket_address: { address: '127.0.0.1', port_value: upstreamPort } },
    filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: typed('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', {
      stat_prefix: 'upstream', route_config: { virtual_hosts: [{ name: 'up', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'ok' } } }] }] },
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: typed('envoy.extensions.filters.http.router.v3.Router', {}) }] }) }] }],
  });
  const envoy = await EnvoyProcess.start(bootstrap, { concurrency: 1, wasmLogLevel: 'warn' });
  pin(envoy.pid, 0);
  try {
    const headers = { 'x-user-id': 'bench', 'x-block': c.blocked ? 'true' : 'false' };
    const load = (duration: number) => autocannon({ url: `${envoy.url}/reviews/1`, connections: CONNECTIONS, duration, headers });
    await load(1); // warm up: connections, the VM's first requests
    const before = cpuMicros(envoy.pid);
    const result = await load(SECONDS);
    const cpu = cpuMicros(envoy.pid) - before;
    const unexpected = c.blocked ? result.requests.total - result['4xx'] : result.non2xx;
    if (unexpected > 0 || result.errors > 0) throw new Error(`${c.label}: ${unexpected} unexpected answers, ${result.errors} errors`);
    return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, cpuPerRequest: cpu / result.requests.total };
  } finally {
    await envoy.stop();
  }
}

/**
 * Pins `pid` (all its threads) to one core: Envoy on core 0 and the load generator (this
 * process) on core 1 do not take turns on the same core, which made runs differ by 10 µs or more.
 * Skipped where taskset is missing or the machine has one core.
 */
function pin(pid: number, core: number): void {
  if (cpus().length < 2) return;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
  } catch {
    // taskset is not installed: the run is noisier, not wrong
  }
}

const missing = envoyMissingReason();
if (missing) {
  console.error(`bench:envoy cannot run: ${missing}`);
  process.exit(1);
}
const { failed } = await buildKitFilters(['add-header', 'rate-quota', 'access-control', 'header-routing', 'circuit-breaker', 'telemetry'], { debug: false });
if (failed.length > 0) throw failed[0].error;
const peers = await buildPeerModules();
const upstreamPort = await freePort();
pin(process.pid, 1);
// Rounds alternate the cases, and each case keeps its median round: the machine's own noise then
// falls on every case alike.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const rounds = new Map<string, Awaited<ReturnType<typeof measure>>[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const c of cases(peers)) rounds.set(c.label, [...rounds.get(c.label) ?? [], await measure(c, upstreamPort)]);
}
const results = new Map([...rounds].map(([label, runs]) => [label, runs.sort((a, b) => a.cpuPerRequest - b.cpuPerRequest)[Math.floor(runs.length / 2)]]));
const addedOf = (c: Case) => results.get(c.label)!.cpuPerRequest - results.get(c.baseline ?? NO_FILTER)!.cpuPerRequest;
const lines: string[] = [];
const say = (line: string) => { lines.push(line); console.log(line); };
say(`| case | requests/s | p50 ms | p99 ms | Envoy CPU µs/request | added over its baseline | added vs reference |`);
say('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const c of cases(peers)) {
  const r = results.get(c.label)!;
  const added = addedOf(c);
  const referenceAdded = c.reference ? addedOf(cases(peers).find((x) => x.label === c.reference)!) : undefined;
  // Below 2 µs a reference's cost is lost in the machine's noise: a ratio would mean nothing.
  const ratio = referenceAdded === undefined ? '' : referenceAdded < 2 ? `${c.reference} < 2 µs` : `${(added / referenceAdded).toFixed(2)}× ${c.reference}`;
  const isBaseline = c.label === NO_FILTER || c.label === ENVOY_403;
  say(`| ${c.label} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${r.cpuPerRequest.toFixed(1)} | ${isBaseline ? '' : added.toFixed(1)} | ${ratio} |`);
}
if (WRITE_README) {
  const envoyVersion = execFileSync(findEnvoy()!, ['--version'], { encoding: 'utf8' }).match(/\/(\d+\.\d+\.\d+)\//)?.[1] ?? 'unknown';
  writeReadmeSection('envoy', `Envoy ${envoyVersion}, 1 worker, ${CONNECTIONS} connections for ${SECONDS} s, median of ${ROUNDS} rounds`,
    'npm run bench:envoy -- --write-readme', lines);
}
