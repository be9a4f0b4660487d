// npm run bench: what the SDK and host-sim cost, as ratios against baselines measured in the
// same run. Never asserted in tests: timings belong here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@bytecodealliance/jco';
import { buildFilters, DIST_DIR, ROOT } from '../cli/build.js';
import { Host, type PluginSpec, type RequestSpec } from '../host-sim/index.js';
import { protoStruct } from '../host-sim/attributes.js';
import { FilterContext } from '../host-sim/stream/filter-context.js';
import { Plugin } from '../host-sim/plugin.js';
import { BareHost } from './bare-host.js';
import { benchBuild } from './build.js';
import { benchRegex } from './regex.js';
import { benchSdk, SDK_CONDITIONS } from './sdk.js';
import { WRITE_README, writeReadmeSection } from './readme.js';
import { median, row } from './table.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);

interface Subject {
  label: string;
  plugin?: PluginSpec;
  /** The i-th request (default: one fixed request). */
  request?: (i: number) => RequestSpec;
  host?: Host;
  samples: number[];
}

/**
 * Median ns per request through each subject's chain in host-sim. Subjects are measured in
 * rotation, run after run, so drift in the machine's speed affects them all alike.
 */
async function measure(subjects: Subject[]): Promise<Map<string, number>> {
  const fixed: RequestSpec = { path: '/bench', headers: { 'user-agent': 'bench' } };
  for (const s of subjects) {
    s.request ??= () => fixed;
    // Envoy's default log level is info: debug messages cost what building them costs.
    s.host = new Host({ generateRequestId: false, logLevel: 'info', clusters: { backend: () => ({ status: 200 }) } });
    if (s.plugin) s.host.addPlugin(s.plugin);
    for (let i = 0; i < 5_000; i++) await s.host.request(s.request(i));
  }
  for (let run = 0; run < RUNS; run++) {
    for (const s of subjects) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < REQUESTS; i++) await s.host!.request(s.request!(i));
      s.samples.push(Number(process.hrtime.bigint() - start) / REQUESTS);
    }
  }
  for (const s of subjects) s.host!.close();
  return new Map(subjects.map((s) => [s.label, median(s.samples)]));
}

/** A filter as both hosts run it: its module, root id, configuration and one request. */
interface FilterCase { label: string; plugin: PluginSpec & { module: string; rootId: string }; request: RequestSpec }

/**
 * The attributes host-sim answers `spec`'s request with, so the bare host can answer the same:
 * every lookup of one request is recorded, keyed by the path's segments joined with NUL.
 */
async function attributesOf(spec: FilterCase): Promise<Map<string, Uint8Array>> {
  const seen = new Map<string, Uint8Array>();
  const stream = FilterContext.prototype.property;
  const root = Plugin.prototype.rootProperty;
  FilterContext.prototype.property = function (path) { const v = stream.call(this, path); if (v) seen.set(path.join('\0'), v); return v; };
  Plugin.prototype.rootProperty = function (path) { const v = root.call(this, path); if (v) seen.set(path.join('\0'), v); return v; };
  try {
    const host = new Host({ generateRequestId: false, logLevel: 'info', clusters: { backend: () => ({ status: 200 }) } });
    host.addPlugin(spec.plugin);
    await host.request(spec.request);
    host.close();
  } finally {
    FilterContext.prototype.property = stream;
    Plugin.prototype.rootProperty = root;
  }
  return seen;
}

/** Median ns per request of `spec` in the bare host, in rounds like host-sim's. */
async function bareNs(spec: FilterCase): Promise<number> {
  const configuration = new TextEncoder().encode(JSON.stringify(spec.plugin.configuration));
  const bare = new BareHost({ module: readFileSync(spec.plugin.module), rootId: spec.plugin.rootId, configuration, properties: await attributesOf(spec) });
  const headers: [string, string][] = [[':method', spec.request.method ?? 'GET'], [':scheme', 'http'], [':authority', 'bench'],
    [':path', spec.request.path ?? '/'], ...Object.entries((spec.request.headers ?? {}) as Record<string, string>)];
  for (let i = 0; i < 5_000; i++) bare.request(headers);
  const samples: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < REQUESTS; i++) bare.request(headers);
    samples.push(Number(process.hrtime.bigint() - start) / REQUESTS);
  }
  return median(samples);
}

function filterCases(): FilterCase[] {
  const peer = Buffer.from(protoStruct({ WORKLOAD_NAME: 'reviews-v3', NAMESPACE: 'bookinfo', LABELS: { app: 'reviews', version: 'v3' } })).toString('base64');
  return [
    { label: 'add-header', plugin: { module: join(DIST_DIR, 'add-header.wasm'), rootId: 'add-header',
      configuration: { request_headers: { 'x-added-request': 'v' }, response_headers: { 'x-added-response': 'v' } } },
    request: { path: '/bench', headers: { 'user-agent': 'bench' } } },
    { label: 'rate-quota (1 key)', plugin: quota(), request: { path: '/bench', headers: { 'x-user': 'alice' } } },
    { label: 'access-control (10 rules)', plugin: rules(10), request: { path: '/resource/9', headers: { 'x-tenant': 'a' } } },
    { label: 'header-routing (20th rule)', plugin: routing(), request: { path: '/bench', headers: { 'x-tenant': 'tenant-19', 'x-user': 'u1' } } },
    { label: 'circuit-breaker (closed)', plugin: breaker(false), request: { path: '/bench', headers: { 'x-api': 'search' } } },
    { label: 'circuit-breaker (open: fallback reply)', plugin: breaker(true), request: { path: '/bench', headers: { 'x-api': 'search' } } },
    { label: 'telemetry (all labels)', plugin: { module: join(DIST_DIR, 'telemetry.wasm'), rootId: 'telemetry',
      configuration: { custom_labels: { tenant: { header: 'x-tenant' } }, access_log: { level: 'info', headers: ['x-tenant'] } } },
    request: { path: '/bench', headers: { 'x-tenant': 'acme', 'x-envoy-peer-metadata': peer } } },
  ];
}

/** rate-quota: one quota keyed by 3 dimensions, a limit no request reaches (the allow path). */
function quota(): FilterCase['plugin'] {
  return {
    module: join(DIST_DIR, 'rate-quota.wasm'), rootId: 'rate-quota',
    configuration: {
      max_keys: 65536,
      dimensions: { user: { header: 'x-user' }, method: { method: true }, api: { path: { prefix: '/bench' }, value: 'bench' } },
      quotas: [{ name: 'q', dimensions: ['user', 'method', 'api'], max_amount: 1_000_000_000, valid_duration: '1s' }],
    },
  };
}

/**
 * circuit-breaker keyed by a header. Closed: every request is admitted and its success recorded
 * (a read, then a CAS write). Open: the first request's 200 counts as a failure, which opens the
 * circuit for an hour, so every later request is answered with the fallback.
 */
function breaker(open: boolean): FilterCase['plugin'] {
  return {
    module: join(DIST_DIR, 'circuit-breaker.wasm'), rootId: 'circuit-breaker',
    configuration: {
      key: { source: 'header', header: 'x-api' }, trip: { consecutive_failures: 1 }, open: { duration: '1h' },
      ...(open ? { failures: { statuses: [200] } } : {}),
      fallback: { local_response: { status: 200, body: '{"degraded":true}' } },
    },
  };
}

/** access-control: an ALLOW policy of N rules on distinct paths; requests hit the last rule. */
function rules(n: number): FilterCase['plugin'] {
  return {
    module: join(DIST_DIR, 'access-control.wasm'), rootId: 'access-control',
    configuration: { policies: [{ name: 'api', action: 'ALLOW', rules: Array.from({ length: n }, (_, i) => ({
      name: `r${i}`, to: [{ operation: { methods: ['GET'], paths: [`/resource/${i}`] } }], when: ['request.headers["x-tenant"] != "blocked"'],
    })) }] },
  };
}

/** header-routing: 20 rules on a header and the path, weighted sticky targets. */
function routing(): FilterCase['plugin'] {
  return {
    module: join(DIST_DIR, 'header-routing.wasm'), rootId: 'header-routing',
    configuration: { rules: Array.from({ length: 20 }, (_, i) => ({
      name: `r${i}`, match: { headers: [{ name: 'x-tenant', exact: `tenant-${i}` }], path: { prefix: '/bench' } },
      targets: [{ cluster: 'backend', weight: 50 }, { cluster: 'backend', weight: 50 }], sticky_key: { header: 'x-user' },
    })) },
  };
}

/** host-sim against the bare host for each filter, as a Markdown table. */
async function benchHostSim(): Promise<string[]> {
  const passThrough = await parse(readFileSync(join(ROOT, 'bench', 'fixtures', 'pass-through.wat'), 'utf8'));
  const cases = filterCases();
  const results = await measure([
    { label: 'none', samples: [] },
    { label: 'pass-through', plugin: { module: passThrough, name: 'pass-through' }, samples: [] },
    ...cases.map((c) => ({ label: c.label, plugin: c.plugin, request: () => c.request, samples: [] })),
  ]);
  const lines = ['| filter | host-sim ns/request | bare host ns/request | host-sim / bare (goal: at most 2) |', '| --- | ---: | ---: | ---: |'];
  for (const c of cases) {
    const bare = await bareNs(c);
    lines.push(`| ${c.label} | ${results.get(c.label)!.toFixed(0)} | ${bare.toFixed(0)} | ${(results.get(c.label)! / bare).toFixed(2)} |`);
  }
  lines.push(`| no filter (the router only) | ${results.get('none')!.toFixed(0)} | | |`);
  lines.push(`| a pass-through module | ${results.get('pass-through')!.toFixed(0)} | | |`);
  console.log('\nhost-sim against the bare harness host (bench/bare-host.ts), one filter, one core\n');
  for (const line of lines) console.log(line);
  return lines;
}

async function benchScaling(): Promise<void> {
  const passThrough = await parse(readFileSync(join(ROOT, 'bench', 'fixtures', 'pass-through.wat'), 'utf8'));
  const baseline = () => ({ label: 'baseline', plugin: { module: passThrough, name: 'pass-through' }, samples: [] as number[] });
  const q = quota();
  const quotaResults = await measure([
    baseline(),
    { label: 'one key', plugin: q, request: () => ({ path: '/bench', headers: { 'x-user': 'alice' } }), samples: [] },
    { label: '10k keys', plugin: q, request: (i) => ({ path: '/bench', headers: { 'x-user': `user-${i % 10_000}` } }), samples: [] },
  ]);
  const [quotaBaseline, oneKey, manyKeys] = ['baseline', 'one key', '10k keys'].map((k) => quotaResults.get(k)!);
  console.log('\nfilters/rate-quota in host-sim: a quota keyed by 3 dimensions (local mode)');
  console.log(row(['keys', 'ns/request', 'above baseline']));
  console.log(row(['1 key', oneKey.toFixed(0), (oneKey - quotaBaseline).toFixed(0)]));
  console.log(row(['10k distinct keys', manyKeys.toFixed(0), (manyKeys - quotaBaseline).toFixed(0)]));
  console.log(`ratio 10k keys/1 key (above baseline): ${((manyKeys - quotaBaseline) / (oneKey - quotaBaseline)).toFixed(2)}`);

  const accessResults = await measure([
    baseline(),
    { label: '10 rules', plugin: rules(10), request: () => ({ path: '/resource/9', headers: { 'x-tenant': 'a' } }), samples: [] },
    { label: '1000 rules', plugin: rules(1000), request: () => ({ path: '/resource/999', headers: { 'x-tenant': 'a' } }), samples: [] },
  ]);
  const [accessBaseline, tenRules, thousandRules] = ['baseline', '10 rules', '1000 rules'].map((k) => accessResults.get(k)!);
  console.log('\nfilters/access-control in host-sim: one ALLOW policy, rules on exact paths (the last one matches)');
  console.log(row(['rules', 'ns/request', 'above baseline']));
  console.log(row(['10 rules', tenRules.toFixed(0), (tenRules - accessBaseline).toFixed(0)]));
  console.log(row(['1000 rules', thousandRules.toFixed(0), (thousandRules - accessBaseline).toFixed(0)]));
  console.log(`ratio 1000 rules/10 rules (above baseline): ${((thousandRules - accessBaseline) / (tenRules - accessBaseline)).toFixed(2)} (linear scanning would be ~100)`);
}

console.log(`Building modules (host-sim: ${RUNS} runs x ${REQUESTS} requests each, median reported) ...`);
const { failed } = await buildFilters(['add-header', 'rate-quota', 'access-control', 'header-routing', 'circuit-breaker', 'telemetry'], { debug: false });
if (failed.length > 0) throw failed[0].error;
const sdk = await benchSdk();
const hostSim = await benchHostSim();
if (WRITE_README) {
  writeReadmeSection('sdk', SDK_CONDITIONS, 'npm run bench -- --write-readme', sdk);
  writeReadmeSection('host-sim', `median of ${RUNS} runs of ${REQUESTS} requests`, 'npm run bench -- --write-readme', hostSim);
}
await benchScaling();
await benchRegex();
await benchBuild();
