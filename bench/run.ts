// npm run bench: what the SDK and host-sim cost, as ratios against baselines measured in the
// same run. Never asserted in tests: timings belong here.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@bytecodealliance/jco';
import { buildFilters, DIST_DIR, ROOT } from '../cli/build.js';
import { Host, type PluginSpec, type RequestSpec } from '../host-sim/index.js';
import { buildPortable } from '../test/support/compile.js';
import { benchBuild } from './build.js';
import { protoStruct } from '../host-sim/attributes.js';
import { benchRegex } from './regex.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 100_000);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

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

function row(cells: (string | number)[]): string {
  return cells.map((c, i) => (i === 0 ? String(c).padEnd(46) : String(c).padStart(16))).join('');
}

async function main(): Promise<void> {
  console.log(`Building modules (runs: ${RUNS} x ${REQUESTS} requests each, median reported) ...`);
  await buildFilters(['add-header', 'rate-quota', 'access-control', 'header-routing', 'telemetry'], { debug: false });
  const portable = join(ROOT, 'bench', 'fixtures', 'add-header-portable.ts');
  const theirs = await buildPortable(portable, 'bench-add-header', 'proxy-runtime');
  const ours = await buildPortable(portable, 'bench-add-header', 'wasm-filter-kit');
  const passThrough = await parse(readFileSync(join(ROOT, 'bench', 'fixtures', 'pass-through.wat'), 'utf8'));

  const results = await measure([
    { label: 'baseline', plugin: { module: passThrough, name: 'pass-through' }, samples: [] },
    { label: 'none', samples: [] },
    { label: 'theirs', plugin: { module: theirs, rootId: 'add_header', configuration: 'v' }, samples: [] },
    { label: 'ours', plugin: { module: ours, rootId: 'add_header', configuration: 'v' }, samples: [] },
    { label: 'filter', plugin: { module: join(DIST_DIR, 'add-header.wasm'), rootId: 'add-header',
      configuration: { request_headers: { 'x-added-request': 'v' }, response_headers: { 'x-added-response': 'v' } } }, samples: [] },
  ]);
  const [baseline, noFilter, theirsNs, oursNs, filterNs] = ['baseline', 'none', 'theirs', 'ours', 'filter'].map((k) => results.get(k)!);

  // rate-quota: one quota keyed by 3 dimensions, a limit no request reaches (the allow path).
  const quota = {
    module: join(DIST_DIR, 'rate-quota.wasm'), rootId: 'rate-quota',
    configuration: {
      max_keys: 65536,
      dimensions: { user: { header: 'x-user' }, method: { method: true }, api: { path: { prefix: '/bench' }, value: 'bench' } },
      quotas: [{ name: 'q', dimensions: ['user', 'method', 'api'], max_amount: 1_000_000_000, valid_duration: '1s' }],
    },
  };
  const quotaResults = await measure([
    { label: 'baseline', plugin: { module: passThrough, name: 'pass-through' }, samples: [] },
    { label: 'one key', plugin: quota, request: () => ({ path: '/bench', headers: { 'x-user': 'alice' } }), samples: [] },
    { label: '10k keys', plugin: quota, request: (i) => ({ path: '/bench', headers: { 'x-user': `user-${i % 10_000}` } }), samples: [] },
  ]);
  const [quotaBaseline, oneKey, manyKeys] = ['baseline', 'one key', '10k keys'].map((k) => quotaResults.get(k)!);

  // access-control: an ALLOW policy of N rules on distinct paths; requests hit the last rule.
  const rules = (n: number) => ({
    module: join(DIST_DIR, 'access-control.wasm'), rootId: 'access-control',
    configuration: { policies: [{ name: 'api', action: 'ALLOW', rules: Array.from({ length: n }, (_, i) => ({
      name: `r${i}`, to: [{ operation: { methods: ['GET'], paths: [`/resource/${i}`] } }], when: ['request.headers["x-tenant"] != "blocked"'],
    })) }] },
  });
  const accessResults = await measure([
    { label: 'baseline', plugin: { module: passThrough, name: 'pass-through' }, samples: [] },
    { label: '10 rules', plugin: rules(10), request: () => ({ path: '/resource/9', headers: { 'x-tenant': 'a' } }), samples: [] },
    { label: '1000 rules', plugin: rules(1000), request: () => ({ path: '/resource/999', headers: { 'x-tenant': 'a' } }), samples: [] },
  ]);
  const [accessBaseline, tenRules, thousandRules] = ['baseline', '10 rules', '1000 rules'].map((k) => accessResults.get(k)!);

  // header-routing: 20 rules on headers; one request matches the last rule, one matches none.
  const routingPlugin = {
    module: join(DIST_DIR, 'header-routing.wasm'), rootId: 'header-routing',
    configuration: { rules: Array.from({ length: 20 }, (_, i) => ({
      name: `r${i}`, match: { headers: [{ name: 'x-tenant', exact: `tenant-${i}` }], path: { prefix: '/bench' } },
      targets: [{ cluster: 'backend', weight: 50 }, { cluster: 'backend', weight: 50 }], sticky_key: { header: 'x-user' },
    })) },
  };
  const routingResults = await measure([
    { label: 'baseline', plugin: { module: passThrough, name: 'pass-through' }, samples: [] },
    { label: 'last rule', plugin: routingPlugin, request: () => ({ path: '/bench', headers: { 'x-tenant': 'tenant-19', 'x-user': 'u1' } }), samples: [] },
    { label: 'no match', plugin: routingPlugin, request: () => ({ path: '/bench', headers: { 'x-tenant': 'nobody' } }), samples: [] },
  ]);
  const [routingBaseline, lastRule, noMatch] = ['baseline', 'last rule', 'no match'].map((k) => routingResults.get(k)!);

  // telemetry: every Istio label, a custom label, the access log and trace context on.
  const peer = Buffer.from(protoStruct({ WORKLOAD_NAME: 'reviews-v3', NAMESPACE: 'bookinfo', LABELS: { app: 'reviews', version: 'v3' } })).toString('base64');
  const telemetryResults = await measure([
    { label: 'baseline', plugin: { module: passThrough, name: 'pass-through' }, samples: [] },
    { label: 'all labels', plugin: { module: join(DIST_DIR, 'telemetry.wasm'), rootId: 'telemetry',
      configuration: { custom_labels: { tenant: { header: 'x-tenant' } }, access_log: { level: 'info', headers: ['x-tenant'] } } },
      request: () => ({ path: '/bench', headers: { 'x-tenant': 'acme', 'x-envoy-peer-metadata': peer } }), samples: [] },
  ]);
  const [telemetryBaseline, allLabels] = ['baseline', 'all labels'].map((k) => telemetryResults.get(k)!);

  console.log('\nSDK: add-header (same source) in host-sim');
  console.log(row(['build', 'module bytes', 'ns/request', 'above baseline']));
  console.log(row(['@solo-io/proxy-runtime 0.1.8 + AS 0.14.9', statSync(theirs).size, theirsNs.toFixed(0), (theirsNs - baseline).toFixed(0)]));
  console.log(row(['wasm-filter-kit + AS 0.28', statSync(ours).size, oursNs.toFixed(0), (oursNs - baseline).toFixed(0)]));
  console.log(row(['filters/add-header (JSON config, validation)', statSync(join(DIST_DIR, 'add-header.wasm')).size, filterNs.toFixed(0), (filterNs - baseline).toFixed(0)]));
  console.log(`ratio ours/proxy-runtime: size ${(statSync(ours).size / statSync(theirs).size).toFixed(2)} (goal: < 1), ` +
    `ns per request ${(oursNs / theirsNs).toFixed(2)} in total and ${((oursNs - baseline) / (theirsNs - baseline)).toFixed(2)} above the pass-through baseline (goal: <= 0.50)`);

  console.log('\nhost-sim throughput on one core');
  console.log(row(['chain', 'ns/request', 'requests/s']));
  console.log(row(['no filter (router only)', noFilter.toFixed(0), Math.round(1e9 / noFilter)]));
  console.log(row(['pass-through module', baseline.toFixed(0), Math.round(1e9 / baseline)]));
  console.log(row(['add-header (filters/add-header)', filterNs.toFixed(0), Math.round(1e9 / filterNs)]));
  console.log(`ratio pass-through/no filter: ${(baseline / noFilter).toFixed(2)}; goal: pass-through >= 100000 requests/s`);

  console.log('\nfilters/rate-quota: a quota keyed by 3 dimensions (local mode)');
  console.log(row(['keys', 'ns/request', 'above baseline']));
  console.log(row(['pass-through baseline', quotaBaseline.toFixed(0), '0']));
  console.log(row(['1 key', oneKey.toFixed(0), (oneKey - quotaBaseline).toFixed(0)]));
  console.log(row(['10k distinct keys', manyKeys.toFixed(0), (manyKeys - quotaBaseline).toFixed(0)]));
  console.log(`ratio 10k keys/1 key (above baseline): ${((manyKeys - quotaBaseline) / (oneKey - quotaBaseline)).toFixed(2)}`);

  console.log('\nfilters/access-control: one ALLOW policy, rules on exact paths (the last one matches)');
  console.log(row(['rules', 'ns/request', 'above baseline']));
  console.log(row(['pass-through baseline', accessBaseline.toFixed(0), '0']));
  console.log(row(['10 rules', tenRules.toFixed(0), (tenRules - accessBaseline).toFixed(0)]));
  console.log(row(['1000 rules', thousandRules.toFixed(0), (thousandRules - accessBaseline).toFixed(0)]));
  console.log(`ratio 1000 rules/10 rules (above baseline): ${((thousandRules - accessBaseline) / (tenRules - accessBaseline)).toFixed(2)} (linear scanning would be ~100)`);

  console.log('\nfilters/header-routing: 20 rules on a header and the path, weighted sticky targets');
  console.log(row(['request', 'ns/request', 'above baseline']));
  console.log(row(['pass-through baseline', routingBaseline.toFixed(0), '0']));
  console.log(row(['matches the 20th rule', lastRule.toFixed(0), (lastRule - routingBaseline).toFixed(0)]));
  console.log(row(['matches no rule', noMatch.toFixed(0), (noMatch - routingBaseline).toFixed(0)]));

  console.log('\nfilters/telemetry: all Istio labels, a custom label, access log and trace context');
  console.log(row(['', 'ns/request', 'above baseline']));
  console.log(row(['pass-through baseline', telemetryBaseline.toFixed(0), '0']));
  console.log(row(['all labels on', allLabels.toFixed(0), (allLabels - telemetryBaseline).toFixed(0)]));

  await benchRegex(row);
  await benchBuild(row);
}

await main();
