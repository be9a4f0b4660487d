// The story `wfk demo` tells (the README's first command): the kit's filters chained as a
// platform team would chain them in front of Istio's bookinfo "reviews" service, and the
// requests that show what each one does. cli/demo.ts runs it in host-sim or in real Envoy.
import { protoStruct } from '../host-sim/attributes.js';
import type { RequestSpec } from '../host-sim/index.js';
import type { DemoAnswer, DemoProxy, DemoSetup } from '../cli/demo-proxies.js';

/** The calling workload: productpage's sidecar, whose client certificate vouches for its peer metadata. */
const CALLER = {
  identity: 'spiffe://cluster.local/ns/bookinfo/sa/productpage',
  metadata: { WORKLOAD_NAME: 'productpage-v1', NAMESPACE: 'bookinfo', SERVICE_ACCOUNT: 'productpage', LABELS: { app: 'productpage' } },
};

export const setup: DemoSetup = {
  node: { id: 'reviews', metadata: { WORKLOAD_NAME: 'reviews-v1', NAMESPACE: 'bookinfo', LABELS: { app: 'reviews', version: 'v1' } } },
  // The first upstream serves what no filter routes elsewhere.
  upstreams: { 'reviews-v1': 'reviews v1', 'reviews-canary': 'reviews v2 (canary)' },
  caller: CALLER.identity,
  chain: [
    { filter: 'access-control', configuration: {
      policies: [{ name: 'no-admin', action: 'DENY', rules: [{ name: 'admin', to: [{ operation: { paths: ['/admin/{**}'] } }] }] }] } },
    { filter: 'rate-quota', configuration: {
      dimensions: { user: [{ header: 'x-user' }, { constant: 'anonymous' }] },
      quotas: [{ name: 'per_user', dimensions: ['user'], max_amount: 3, valid_duration: '10s' }] } },
    { filter: 'header-routing', configuration: {
      echo_header: 'x-route-decision',
      rules: [{ name: 'canary-testers', match: { cookies: [{ name: 'tester', exact: 'yes' }] }, targets: [{ cluster: 'reviews-canary' }] }] } },
    { filter: 'circuit-breaker', configuration: {
      key: { source: 'cluster', header: 'x-route-cluster' },
      trip: { consecutive_failures: 3 }, open: { duration: '5s' }, half_open: { successes_to_close: 1 },
      fallback: { local_response: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"reviews":[],"degraded":true}' } } } },
    { filter: 'telemetry', configuration: { labels: ['reporter', 'source_app', 'destination_app', 'response_code', 'response_flags'], access_log: false } },
  ],
};

export async function tell(proxy: DemoProxy, say: (line: string) => void, where: string): Promise<void> {
  const header = (r: DemoAnswer, name: string) => r.headers.find(([k]) => k === name)?.[1];
  say('');
  say(`Chain (in ${where}): access-control -> rate-quota -> header-routing -> circuit-breaker -> telemetry -> router`);
  say('  access-control denies /admin/**; rate-quota allows 3 requests per user per 10 s;');
  say('  header-routing pins testers (cookie tester=yes) to the canary; circuit-breaker stops calling');
  say('  a cluster after 3 failures in a row and answers with a degraded document; telemetry counts everything.');
  say('  Requests come from productpage over mTLS: its certificate (SPIFFE identity) vouches for the');
  say('  peer metadata it sends, so telemetry may label them source_app="productpage".');
  const peer = Buffer.from(protoStruct(CALLER.metadata)).toString('base64');
  const send = async (title: string, spec: RequestSpec) => {
    const r = await proxy.send({ ...spec, headers: { 'x-envoy-peer-metadata': peer, ...(spec.headers as Record<string, string>) } });
    say(`  ${title.padEnd(46)} -> ${r.status} ${r.who}`);
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
  let limited: DemoAnswer | undefined;
  for (let i = 1; i <= 4; i++) {
    const r = await send(`GET /reviews/${i} as carol (#${i})`, { path: `/reviews/${i}`, headers: { 'x-user': 'carol' } });
    if (r.status === 429) limited = r;
  }
  if (limited) {
    say(`     x-ratelimit-limit: ${header(limited, 'x-ratelimit-limit')}, x-ratelimit-remaining: ${header(limited, 'x-ratelimit-remaining')}, retry-after: ${header(limited, 'retry-after')}`);
  }
  await proxy.wait(4_000);
  await send('4 s later, carol again (a token came back)', { path: '/reviews/5', headers: { 'x-user': 'carol' } });

  say('');
  say('4. A tester is pinned to the canary');
  const canary = await send('GET /reviews/1 as dave with cookie tester=yes', { path: '/reviews/1', headers: { 'x-user': 'dave', cookie: 'tester=yes' } });
  say(`     x-route-decision: ${header(canary, 'x-route-decision')}; body: ${JSON.stringify(canary.body)}`);

  say('');
  say('5. The canary goes down: the circuit opens, testers get the fallback, then it recovers');
  proxy.setBroken('reviews-canary', true);
  const tester = (n: number) => ({ path: `/reviews/${n}`, headers: { 'x-user': `tester-${n}`, cookie: 'tester=yes' } });
  for (let n = 1; n <= 3; n++) await send(`GET /reviews/${n} as tester-${n} (canary down)`, tester(n));
  const fallback = await send('GET /reviews/4 as tester-4 (circuit open)', tester(4));
  say(`     x-circuit-state: ${header(fallback, 'x-circuit-state')}; body: ${fallback.body} (the canary was not called)`);
  proxy.setBroken('reviews-canary', false);
  await proxy.wait(5_000);
  const probe = await send('5 s later, tester-5 (a probe: canary is back)', tester(5));
  say(`     x-circuit-state: ${header(probe, 'x-circuit-state')}; the probe succeeded, so the circuit closes`);
  await send('GET /reviews/6 as tester-6 (circuit closed)', tester(6));

  say('');
  say('6. What telemetry and the circuit breaker reported (Prometheus, with the stats_tags `wfk stats-tags` generates)');
  const metrics = (await proxy.prometheus()).split('\n')
    .filter((l) => l.startsWith('istio_requests_total') || /^\S*circuit_breaker_(state|trips|short_circuited)\{circuit="reviews-canary"\}/.test(l));
  for (const line of metrics) say(`  ${line}`);
}
