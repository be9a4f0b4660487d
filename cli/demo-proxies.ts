// Where `wfk demo` tells its story: host-sim, or real Envoy with the same chain, routes and
// upstreams. The routes come from the chain's deployment facts, as `wfk envoy-config` makes them.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Host, type RequestSpec, type Route } from '../host-sim/index.js';
import type { NodeInfo } from '../host-sim/attributes.js';
import type { FilterDeployment } from './deployment.js';
import { send as sendRaw } from './envoy/client.js';
import { Pki } from './envoy/pki.js';
import { EnvoyProcess } from './envoy/process.js';
import { cluster, httpBootstrap, wasmFilter } from './envoy/resources.js';
import { KIT } from './paths.js';

/** A story's world: the proxy's node, its upstreams (name: the body each answers), the caller's mTLS identity, the chain. */
export interface DemoSetup {
  node: NodeInfo;
  upstreams: Record<string, string>;
  caller: string;
  chain: { filter: string; configuration: Record<string, unknown> }[];
}

export interface DemoAnswer { status: number; headers: [string, string][]; body: string; who: string }

export interface DemoProxy {
  send(spec: RequestSpec): Promise<DemoAnswer>;
  /** Makes an upstream answer 503 "upstream down" (broken) or its body again. */
  setBroken(upstream: string, broken: boolean): void;
  /** Lets time pass (virtual in host-sim, real in Envoy). */
  wait(ms: number): Promise<void>;
  prometheus(): Promise<string>;
  close(): Promise<void>;
}

/** What the chain's deployment facts add: the header a routing filter names its cluster in, and stats_tags. */
export function chainFacts(setup: DemoSetup, deployments: FilterDeployment[]) {
  const clusterHeader = setup.chain.map(({ configuration }, i) => deployments[i].clusterHeader?.(configuration)).find((h) => h !== undefined);
  const statsTags = setup.chain.flatMap(({ configuration }, i) => deployments[i].statsTags?.(configuration) ?? []);
  return { clusterHeader, statsTags, defaultCluster: Object.keys(setup.upstreams)[0] };
}

type Facts = ReturnType<typeof chainFacts>;

/** What a broken upstream answers. */
const BROKEN = { status: 503, body: 'upstream down\n' };

export function hostSimProxy(setup: DemoSetup, facts: Facts): DemoProxy {
  const broken = new Set<string>();
  const routes: Route[] = [{ name: 'default', match: { prefix: '/' }, cluster: facts.defaultCluster }];
  if (facts.clusterHeader) routes.unshift({ name: 'picked', match: { prefix: '/', headers: [{ name: facts.clusterHeader, present: true }] }, clusterHeader: facts.clusterHeader });
  const host = new Host({
    node: setup.node,
    clusters: Object.fromEntries(Object.entries(setup.upstreams).map(([name, body]) => [name, () => (broken.has(name) ? BROKEN : { status: 200, body })])),
    routes,
  });
  for (const { filter, configuration } of setup.chain) host.addPlugin({ module: join(KIT.distDir, `${filter}.wasm`), rootId: filter, configuration });
  return {
    async send(spec) {
      const r = await host.request({ ...spec, scheme: 'https', tls: { peerCertificate: { uriSan: setup.caller } } });
      const who = r.localReply ? `answered by ${r.localReply.plugin} (${r.localReply.details})` : `served by cluster ${r.upstream?.cluster}`;
      return { status: r.status, headers: r.headers, body: r.body, who };
    },
    setBroken: (upstream, on) => { if (on) broken.add(upstream); else broken.delete(upstream); },
    wait: (ms) => host.advance(ms),
    prometheus: async () => host.prometheus(facts.statsTags),
    close: async () => host.close(),
  };
}

export async function envoyProxy(setup: DemoSetup, facts: Facts): Promise<DemoProxy> {
  // Each upstream names itself, so the story can tell which cluster answered.
  const broken = new Set<string>();
  const servers = await Promise.all(Object.entries(setup.upstreams).map(async ([name, body]) => {
    const server = http.createServer((_req, res) => {
      const answer = broken.has(name) ? BROKEN : { status: 200, body };
      res.writeHead(answer.status, { 'x-demo-cluster': name, 'content-type': 'text/plain' }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { name, server, port: (server.address() as AddressInfo).port };
  }));
  const routes: Record<string, unknown>[] = [{ match: { prefix: '/' }, route: { cluster: facts.defaultCluster } }];
  if (facts.clusterHeader) routes.unshift({ match: { prefix: '/', headers: [{ name: facts.clusterHeader, present_match: true }] }, route: { cluster_header: facts.clusterHeader } });
  // The listener speaks mTLS, with certificates from a throwaway CA.
  const pki = new Pki();
  const bootstrap = {
    node: setup.node,
    stats_config: { use_all_default_tags: false, stats_tags: facts.statsTags },
    ...httpBootstrap({
      admin: { address: '127.0.0.1', port: 0 }, listener: { address: '127.0.0.1', port: 0 },
      routeName: 'demo', virtualHost: 'demo', routes,
      filters: setup.chain.map(({ filter, configuration }) => wasmFilter({ filter, configuration, modulePath: join(KIT.distDir, `${filter}.wasm`) })),
      clusters: servers.map((s) => cluster(s.name, '127.0.0.1', s.port, false, 'STATIC')),
      transportSocket: pki.downstreamTlsContext(true),
    }),
  };
  const envoy = await EnvoyProcess.start(bootstrap);
  const client = pki.clientTls(setup.caller);
  const text = (bytes: Uint8Array) => Buffer.from(bytes).toString();
  return {
    async send(spec) {
      const headers = Object.entries((spec.headers ?? {}) as Record<string, string>).map(([k, v]) => [k, new TextEncoder().encode(v)] as [string, Uint8Array]);
      const r = await sendRaw(envoy.port, { method: spec.method ?? 'GET', path: spec.path ?? '/', authority: 'demo', headers }, 30_000, client);
      const list = r.headers.map(([k, v]) => [k, text(v)] as [string, string]);
      const served = list.find(([k]) => k === 'x-demo-cluster')?.[1];
      return { status: r.status, headers: list, body: text(r.body), who: served ? `served by cluster ${served}` : 'answered by Envoy (a filter or the router)' };
    },
    setBroken: (upstream, on) => { if (on) broken.add(upstream); else broken.delete(upstream); },
    wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    prometheus: () => envoy.admin('/stats/prometheus'),
    async close() {
      await envoy.stop();
      pki.close();
      for (const s of servers) s.server.close();
    },
  };
}
