// The README's first command: build every filter and tell the story of requests flowing through
// all four, chained as a platform team would chain them in Envoy.
import { join } from 'node:path';
import { statsTagsFor, telemetryLabels } from './stats-tags.js';
import { Host, type RequestSpec, type StreamResult } from '../host-sim/index.js';
import { protoStruct } from '../host-sim/attributes.js';
import { buildFilters, DIST_DIR } from './build.js';

const header = (r: StreamResult, name: string) => r.headers.find(([k]) => k === name)?.[1];

export async function runDemo(say: (line: string) => void): Promise<void> {
  say('Building the filters ...');
  await buildFilters([], { debug: false, progress: (line) => say(`  ${line}`) });

  const telemetryConfig = { labels: ['reporter', 'source_app', 'destination_app', 'response_code', 'response_flags'], access_log: false };
  const host = new Host({
    node: { id: 'reviews', metadata: { WORKLOAD_NAME: 'reviews-v1', NAMESPACE: 'bookinfo', LABELS: { app: 'reviews', version: 'v1' } } },
    clusters: {
      'reviews-v1': () => ({ status: 200, body: 'reviews v1' }),
      'reviews-canary': () => ({ status: 200, body: 'reviews v2 (canary)' }),
    },
    routes: [
      { name: 'picked', match: { prefix: '/', headers: [{ name: 'x-route-cluster', present: true }] }, clusterHeader: 'x-route-cluster' },
      { name: 'default', match: { prefix: '/' }, cluster: 'reviews-v1' },
    ],
  });
  const filter = (name: string) => join(DIST_DIR, `${name}.wasm`);
  host.addPlugin({ module: filter('access-control'), rootId: 'access-control', configuration: {
    policies: [{ name: 'no-admin', action: 'DENY', rules: [{ name: 'admin', to: [{ operation: { paths: ['/admin/{**}'] } }] }] }],
  } });
  host.addPlugin({ module: filter('rate-quota'), rootId: 'rate-quota', configuration: {
    dimensions: { user: [{ header: 'x-user' }, { constant: 'anonymous' }] },
    quotas: [{ name: 'per_user', dimensions: ['user'], max_amount: 3, valid_duration: '10s' }],
  } });
  host.addPlugin({ module: filter('header-routing'), rootId: 'header-routing', configuration: {
    echo_header: 'x-route-decision',
    rules: [{ name: 'canary-testers', match: { cookies: [{ name: 'tester', exact: 'yes' }] }, targets: [{ cluster: 'reviews-canary' }] }],
  } });
  host.addPlugin({ module: filter('telemetry'), rootId: 'telemetry', configuration: telemetryConfig });

  say('');
  say('Chain: access-control -> rate-quota -> header-routing -> telemetry -> router');
  say('  access-control denies /admin/**; rate-quota allows 3 requests per user per 10 s;');
  say('  header-routing pins testers (cookie tester=yes) to the canary; telemetry counts everything.');
  const peer = Buffer.from(protoStruct({ WORKLOAD_NAME: 'productpage-v1', NAMESPACE: 'bookinfo', LABELS: { app: 'productpage' } })).toString('base64');
  const send = async (title: string, spec: RequestSpec) => {
    const r = await host.request({ ...spec, headers: { 'x-envoy-peer-metadata': peer, ...(spec.headers as Record<string, string>) } });
    const who = r.localReply ? `answered by ${r.localReply.plugin} (${r.localReply.details})` : `served by cluster ${r.upstream?.cluster}`;
    say(`  ${title.padEnd(44)} -> ${r.status} ${who}`);
    return r;
  };

  say('');
  say('1. Ordinary requests pass');
  await send('GET /reviews/1 as alice', { path: '/reviews/1', headers: { 'x-user': 'alice' } });
  await send('GET /reviews/2 as bob', { path: '/reviews/2', headers: { 'x-user': 'bob' } });

  say('');
  say('2. The admin API is denied');
  const denied = await send('GET /admin/users as bob', { path: '/admin/users', headers: { 'x-user': 'bob' } });
  say(`     body: ${JSON.stringify(denied.body)} (the policy's name stays in the log, not in the reply)`);

  say('');
  say('3. A burst from one user is rate limited');
  let limited: StreamResult | undefined;
  for (let i = 1; i <= 4; i++) {
    const r = await send(`GET /reviews/${i} as carol (#${i})`, { path: `/reviews/${i}`, headers: { 'x-user': 'carol' } });
    if (r.status === 429) limited = r;
  }
  if (limited) {
    say(`     x-ratelimit-limit: ${header(limited, 'x-ratelimit-limit')}, x-ratelimit-remaining: ${header(limited, 'x-ratelimit-remaining')}, retry-after: ${header(limited, 'retry-after')}`);
  }
  await host.advance(4_000);
  await send('4 s later, carol again (a token came back)', { path: '/reviews/5', headers: { 'x-user': 'carol' } });

  say('');
  say('4. A tester is pinned to the canary');
  const canary = await send('GET /reviews/1 as dave with cookie tester=yes', { path: '/reviews/1', headers: { 'x-user': 'dave', cookie: 'tester=yes' } });
  say(`     x-route-decision: ${header(canary, 'x-route-decision')}; body: ${JSON.stringify(canary.body)}`);

  say('');
  say('5. What telemetry reported (Prometheus, with the stats_tags `wfk stats-tags` generates)');
  const metrics = host.prometheus(statsTagsFor(telemetryLabels(telemetryConfig)))
    .split('\n').filter((l) => l.startsWith('istio_requests_total'));
  for (const line of metrics) say(`  ${line}`);
  host.close();
}
