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
    { filter: 'telemetry', configuration: { labels: ['reporter', 'source_app', 'destination_app', 'response_code', 'response_flags'], access_log: false } },
  ],
};

export async function tell(proxy: DemoProxy, say: (line: string) => void, where: string): Promise<void> {
  const header = (r: DemoAnswer, name: string) => r.headers.find(([k]) => k === name)?.[1];
  say('');
  say(`Chain (in ${where}): access-control -> rate-quota -> header-routing -> telemetry -> router`);
  say('  access-control denies /admin/**; rate-quota allows 3 requests per user per 10 s;');
  say('  header-routing pins testers (cookie tester=yes) to the canary; telemetry counts everything.');
  say('  Requests come from productpage over mTLS: its certificate (SPIFFE identity) vouches for the');
  say('  peer metadata it sends, so telemetry may label them source_app="productpage".');
  const peer = Buffer.from(protoStruct(CALLER.metadata)).toString('base64');
  const send = async (title: string, spec: RequestSpec) => {
    const r = await proxy.send({ ...spec, headers: { 'x-envoy-peer-metadata': peer, ...(spec.headers as Record<string, string>) } });
    say(`  ${title.padEnd(44)} -> ${r.status} ${r.who}`);
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
  say('5. What telemetry reported (Prometheus, with the stats_tags `wfk stats-tags` generates)');
  const metrics = (await proxy.prometheus()).split('\n').filter((l) => l.startsWith('istio_requests_total'));
  for (const line of metrics) say(`  ${line}`);
}
