// One bootstrap, two hosts: a shipped (or generated) Envoy bootstrap made runnable on loopback
// with only ports, module paths and upstream addresses substituted, and the same bootstrap read
// into host-sim's terms (wasm plugins, routes, clusters, stats tags) so both run one scenario.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { DIST_DIR } from '../../cli/paths.js';
import type { NodeInfo, PathNormalization, PluginSpec, Route, StatsTag } from '../../host-sim/index.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const readBootstrap = (file: string): Json => parse(readFileSync(file, 'utf8')) as Json;

export interface Localization {
  /** Where each cluster's endpoint is now (all on 127.0.0.1); clusters not named get `fallbackPort`. */
  upstreams: Record<string, number>;
  /** A port where nothing answers, for clusters the scenario does not serve. */
  fallbackPort: number;
}

/** The kit's configs mount modules from /etc/envoy/wasm/; here they come from dist/. */
export const localModule = (filename: string) => (filename.startsWith('/etc/envoy/wasm/') ? join(DIST_DIR, basename(filename)) : filename);

function* hcms(bootstrap: Json): Generator<Json> {
  for (const listener of bootstrap.static_resources?.listeners ?? []) {
    for (const chain of listener.filter_chains ?? []) {
      for (const filter of chain.filters ?? []) {
        if (filter.name === 'envoy.filters.network.http_connection_manager') yield filter.typed_config;
      }
    }
  }
}

function* wasmFilters(bootstrap: Json): Generator<Json> {
  for (const hcm of hcms(bootstrap)) {
    for (const filter of hcm.http_filters ?? []) {
      if (filter.typed_config?.['@type']?.endsWith('filters.http.wasm.v3.Wasm')) yield filter.typed_config.config;
    }
  }
}

/** The `config` of the wasm filter named `name` (its configuration, vm_config, ...). */
export function wasmPlugin(bootstrap: Json, name: string): Json {
  for (const config of wasmFilters(bootstrap)) if (config.name === name) return config;
  throw new Error(`the bootstrap mounts no wasm filter named ${name}`);
}

/** A copy of `bootstrap` that runs here: admin and listeners on 127.0.0.1 port 0, local modules, loopback upstreams. */
export function localize(bootstrap: Json, where: Localization): Json {
  const copy: Json = structuredClone(bootstrap);
  copy.admin = { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };
  for (const listener of copy.static_resources?.listeners ?? []) {
    listener.address = { socket_address: { address: '127.0.0.1', port_value: 0 } };
  }
  for (const config of wasmFilters(copy)) {
    const local = config.vm_config?.code?.local;
    if (local?.filename) local.filename = localModule(local.filename);
  }
  for (const cluster of copy.static_resources?.clusters ?? []) {
    const port = where.upstreams[cluster.name] ?? where.fallbackPort;
    cluster.type = 'STATIC';
    cluster.load_assignment = { cluster_name: cluster.name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] };
    // Loopback upstreams speak plain text; a TLS socket (the JWKS cluster) would never connect.
    delete cluster.transport_socket;
  }
  return copy;
}

/** The cluster names a bootstrap defines. */
export const clusterNames = (bootstrap: Json): string[] => (bootstrap.static_resources?.clusters ?? []).map((c: Json) => c.name as string);

function stringMatch(m: Json | undefined): Json {
  if (!m) return {};
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  if (m.suffix !== undefined) return { suffix: m.suffix };
  if (m.contains !== undefined) return { contains: m.contains };
  if (m.safe_regex?.regex !== undefined) return { regex: m.safe_regex.regex };
  return {};
}

function routeOf(r: Json): Route {
  const headers = (r.match.headers ?? []).map((h: Json) => ({
    name: h.name,
    ...(h.present_match !== undefined ? { present: h.present_match } : {}),
    ...(h.exact_match !== undefined ? { exact: h.exact_match } : {}),
    ...stringMatch(h.string_match),
    ...(h.invert_match ? { invert: true } : {}),
  }));
  const match = { ...(r.match.prefix !== undefined ? { prefix: r.match.prefix } : {}), ...(r.match.path !== undefined ? { path: r.match.path } : {}),
    ...(r.match.safe_regex ? { regex: r.match.safe_regex.regex } : {}), headers };
  const name = {
    ...(r.name !== undefined ? { name: r.name as string } : {}),
    ...(typeof r.route?.timeout === 'string' ? { timeoutMs: Math.round(parseFloat(r.route.timeout) * 1000) } : {}),
  };
  if (r.route?.cluster_header) return { ...name, match, clusterHeader: r.route.cluster_header };
  if (r.route?.weighted_clusters) return { ...name, match, weightedClusters: r.route.weighted_clusters.clusters.map((c: Json) => ({ name: c.name, weight: Number(c.weight) })) };
  return { ...name, match, cluster: r.route?.cluster };
}

export interface HostSimSetup {
  plugins: PluginSpec[];
  routes: Route[];
  clusters: string[];
  statsTags: StatsTag[];
  node: NodeInfo;
  /** HTTP filters host-sim cannot run (everything but wasm, header_mutation's removals and the router). */
  unsupported: string[];
  pathNormalization: PathNormalization;
  removeRequestHeaders: string[];
}

/** The bootstrap in host-sim's terms: its first HTTP connection manager's wasm filters and routes. */
export function hostSimSetup(bootstrap: Json): HostSimSetup {
  const hcm = hcms(bootstrap).next().value as Json;
  const plugins: PluginSpec[] = [];
  const unsupported: string[] = [];
  const removeRequestHeaders: string[] = [];
  for (const filter of hcm.http_filters ?? []) {
    const config = filter.typed_config?.config;
    if (filter.typed_config?.['@type']?.endsWith('filters.http.wasm.v3.Wasm')) {
      const configuration = config.configuration?.value;
      plugins.push({
        module: localModule(config.vm_config.code.local.filename),
        name: config.name,
        rootId: config.root_id ?? '',
        vmId: config.vm_config.vm_id ?? '',
        ...(configuration !== undefined ? { configuration: String(configuration) } : {}),
        ...(config.vm_config.configuration?.value !== undefined ? { vmConfiguration: String(config.vm_config.configuration.value) } : {}),
        failOpen: config.fail_open ?? false,
      });
    } else if (filter.name === 'envoy.filters.http.header_mutation') {
      for (const m of filter.typed_config?.mutations?.request_mutations ?? []) if (m.remove) removeRequestHeaders.push(m.remove);
    } else if (filter.name !== 'envoy.filters.http.router') {
      unsupported.push(filter.name);
    }
  }
  const routes = (hcm.route_config?.virtual_hosts ?? []).flatMap((vh: Json) => (vh.routes ?? []).map(routeOf));
  const node: NodeInfo = { id: bootstrap.node?.id ?? '', cluster: bootstrap.node?.cluster ?? '', ...(bootstrap.node?.metadata ? { metadata: bootstrap.node.metadata } : {}) };
  const pathNormalization: PathNormalization = {
    normalizePath: hcm.normalize_path ?? false, mergeSlashes: hcm.merge_slashes ?? false, escapedSlashes: hcm.path_with_escaped_slashes_action,
  };
  return { plugins, routes, clusters: clusterNames(bootstrap), statsTags: bootstrap.stats_config?.stats_tags ?? [], node, unsupported,
    pathNormalization, removeRequestHeaders };
}
