// The README's first command: build every filter and tell the story of requests flowing through
// all four, chained as a platform team would chain them in Envoy — in host-sim, or (--envoy)
// through real Envoy with the same chain, routes and upstreams.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Host, type RequestSpec, type StatsTag } from '../host-sim/index.js';
import { protoStruct } from '../host-sim/attributes.js';
import { buildFilters, DIST_DIR } from './build.js';
import { loadDeployment } from './deployment.js';
import { cluster, httpBootstrap, wasmFilter } from './envoy/resources.js';
import { send as sendRaw } from './envoy/client.js';
import { EnvoyProcess } from './envoy/process.js';
import { Pki } from './envoy/pki.js';

const NODE = { id: 'reviews', metadata: { WORKLOAD_NAME: 'reviews-v1', NAMESPACE: 'bookinfo', LABELS: { app: 'reviews', version: 'v1' } } };
const UPSTREAMS: Record<string, string> = { 'reviews-v1': 'reviews v1', 'reviews-canary': 'reviews v2 (canary)' };
const CHAIN: { filter: string; configuration: Record<string, unknown> }[] = [
  { filter: 'access-control', configuration: {
    policies: [{ name: 'no-admin', action: 'DENY', rules: [{ name: 'admin', to: [{ operation: { paths: ['/admin/{**}'] } }] }] }] } },
  { filter: 'rate-quota', configuration: {
    dimensions: { user: [{ header: 'x-user' }, { constant: 'anonymous' }] },
    quotas: [{ name: 'per_user', dimensions: ['user'], max_amount: 3, valid_duration: '10s' }] } },
  { filter: 'header-routing', configuration: {
    echo_header: 'x-route-decision',
    rules: [{ name: 'canary-testers', match: { cookies: [{ name: 'tester', exact: 'yes' }] }, targets: [{ cluster: 'reviews-canary' }] }] } },
  { filter: 'telemetry', configuration: { labels: ['reporter', 'source_app', 'destination_app', 'response_code', 'response_flags'], access_log: false } },
];

interface Answer { status: number; headers: [string, string][]; body: string; who: string }

/** The calling workload: productpage's sidecar, whose client certificate vouches for its peer metadata. */
const CALLER = 'spiffe://cluster.local/ns/bookinfo/sa/productpage';
const CALLER_METADATA = { WORKLOAD_NAME: 'productpage-v1', NAMESPACE: 'bookinfo', SERVICE_ACCOUNT: 'productpage', LABELS: { app: 'productpage' } };

/** Where the story runs: host-sim, or real Envoy. */
interface Proxy {
  send(spec: RequestSpec): Promise<Answer>;
  /** Lets time pass (virtual in host-sim, real in Envoy). */
  wait(ms: number): Promise<void>;
  prometheus(): Promise<string>;
  close(): Promise<void>;
}

function hostSimProxy(statsTags: StatsTag[]): Proxy {
  const host = new Host({
    node: NODE,
    clusters: Object.fromEntries(Object.entries(UPSTREAMS).map(([name, body]) => [name, () => ({ status: 200, body })])),
    routes: [
      { name: 'picked', match: { prefix: '/', headers: [{ name: 'x-route-cluster', present: true }] }, clusterHeader: 'x-route-cluster' },
      { name: 'default', match: { prefix: '/' }, cluster: 'reviews-v1' },
    ],
  });
  for (const { filter, configuration } of CHAIN) host.addPlugin({ module: join(DIST_DIR, `${filter}.wasm`), rootId: filter, configuration });
  return {
    async send(spec) {
      const r = await host.request({ ...spec, scheme: 'https', tls: { peerCertificate: { uriSan: CALLER } } });
      const who = r.localReply ? `answered by ${r.localReply.plugin} (${r.localReply.details})` : `served by cluster ${r.upstream?.cluster}`;
      return { status: r.status, headers: r.headers, body: r.body, who };
    },
    wait: (ms) => host.advance(ms),
    prometheus: async () => host.prometheus(statsTags),
    close: async () => host.close(),
  };
}

async function envoyProxy(statsTags: StatsTag[]): Promise<Proxy> {
  // Each upstream names itself, so the story can tell which cluster answered.
  const servers = await Promise.all(Object.entries(UPSTREAMS).map(async ([name, body]) => {
    const server = http.createServer((_req, res) => res.writeHead(200, { 'x-demo-cluster': name, 'content-type': 'text/plain' }).end(body));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { name, server, port: (server.address() as AddressInfo).port };
  }));
  // The listener speaks mTLS, with certificates from a throwaway CA.
  const pki = new Pki();
  const bootstrap = {
    node: NODE,
    stats_config: { use_all_default_tags: false, stats_tags: statsTags },
    ...httpBootstrap({
      admin: { address: '127.0.0.1', port: 0 }, listener: { address: '127.0.0.1', port: 0 },
      routeName: 'reviews', virtualHost: 'reviews',
      routes: [
        { match: { prefix: '/', headers: [{ name: 'x-route-cluster', present_match: true }] }, route: { cluster_header: 'x-route-cluster' } },
        { match: { prefix: '/' }, route: { cluster: 'reviews-v1' } },
      ],
      filters: CHAIN.map(({ filter, configuration }) => wasmFilter({ filter, configuration, modulePath: join(DIST_DIR, `${filter}.wasm`) })),
      clusters: servers.map((s) => cluster(s.name, '127.0.0.1', s.port, false, 'STATIC')),
      transportSocket: pki.downstreamTlsContext(true),
    }),
  };
  const envoy = await EnvoyProcess.start(bootstrap);
  const client = pki.clientTls(CALLER);
  const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
  return {
    async send(spec) {
      const headers = Object.entries((spec.headers ?? {}) as Record<string, string>).map(([k, v]) => [k, new TextEncoder().encode(v)] as [string, Uint8Array]);
      const r = await sendRaw(envoy.port, { method: spec.method ?? 'GET', path: spec.path ?? '/', authority: 'reviews', headers }, 30_000, client);
      const list = r.headers.map(([k, v]) => [k, text(v)] as [string, string]);
      const cluster = list.find(([k]) => k === 'x-demo-cluster')?.[1];
      return { status: r.status, headers: list, body: text(r.body), who: cluster ? `served by cluster ${cluster}` : 'answered by Envoy (a filter or the router)' };
    },
    wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    prometheus: () => envoy.admin('/stats/prometheus'),
    async close() {
      await envoy.stop();
      pki.close();
      for (const s of servers) s.server.close();
    },
  };
}

export async function runDemo(say: (line: string) => void, options: { envoy?: boolean } = {}): Promise<void> {
  say('Building the filters ...');
  await buildFilters([], { debug: false, progress: (line) => say(`  ${line}`) });
  // The stats_tags the chain's filters declare, as `wfk stats-tags` prints them.
  const deployments = await Promise.all(CHAIN.map(({ filter }) => loadDeployment(filter)));
  const statsTags = CHAIN.flatMap(({ configuration }, i) => deployments[i].statsTags?.(configuration) ?? []);
  const proxy = options.envoy ? await envoyProxy(statsTags) : hostSimProxy(statsTags);
  try {
    await tell(proxy, say, options.envoy ? 'real Envoy' : 'host-sim');
  } finally {
    await proxy.close();
  }
}

async function tell(proxy: Proxy, say: (line: string) => void, where: string): Promise<void> {
  const header = (r: Answer, name: string) => r.headers.find(([k]) => k === name)?.[1];
  say('');
  say(`Chain (in ${where}): access-control -> rate-quota -> header-routing -> telemetry -> router`);
  say('  access-control denies /admin/**; rate-quota allows 3 requests per user per 10 s;');
  say('  header-routing pins testers (cookie tester=yes) to the canary; telemetry counts everything.');
  say('  Requests come from productpage over mTLS: its certificate (SPIFFE identity) vouches for the');
  say('  peer metadata it sends, so telemetry may label them source_app="productpage".');
  const peer = Buffer.from(protoStruct(CALLER_METADATA)).toString('base64');
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
  let limited: Answer | undefined;
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
