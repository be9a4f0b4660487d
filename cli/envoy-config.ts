// wfk envoy-config: an Envoy v3 bootstrap that mounts a filter, or the Istio WasmPlugin that
// deploys it from an OCI registry.
import { compatImage } from './oci/layout.js';
import { statsTagsFor, telemetryLabels } from './stats-tags.js';

/** Where Istio runs each filter in its chain of extensions. */
const ISTIO_PHASE: Record<string, string> = {
  'access-control': 'AUTHZ', 'rate-quota': 'AUTHZ', 'header-routing': 'UNSPECIFIED_PHASE', telemetry: 'STATS', 'add-header': 'UNSPECIFIED_PHASE',
};
/** Within a phase, a higher priority runs first: access control before quotas. */
const ISTIO_PRIORITY: Record<string, number> = { 'access-control': 20, 'rate-quota': 10 };

export interface EnvoyConfigOptions {
  filter: string;
  /** An object (sent as JSON) or the configuration text; none leaves the field out. */
  configuration?: Record<string, unknown> | string;
  /** Path of the module inside the proxy (default /etc/envoy/wasm/<filter>.wasm). */
  modulePath?: string;
  failOpen?: boolean;
  /** Envoy's plugin name, root id and vm id (each defaults to the filter's name). */
  name?: string;
  rootId?: string;
  vmId?: string;
}

type Json = Record<string, unknown>;

export const ROUTER_FILTER = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

/** A cluster of one endpoint; STRICT_DNS resolves a name, STATIC takes an IP. */
export function cluster(name: string, address: string, port: number, http2 = false, type: 'STRICT_DNS' | 'STATIC' = 'STRICT_DNS'): Json {
  return {
    name, type, connect_timeout: '1s',
    ...(http2 ? { typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: { http2_protocol_options: {} } } } } : {}),
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address, port_value: port } } } }] }] },
  };
}

/** The wasm filter stanza for an HTTP connection manager. */
export function wasmFilter(options: EnvoyConfigOptions): Json {
  const { configuration } = options;
  return {
    name: 'envoy.filters.http.wasm',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm',
      config: {
        name: options.name ?? options.filter,
        root_id: options.rootId ?? options.filter,
        fail_open: options.failOpen ?? false,
        vm_config: {
          vm_id: options.vmId ?? options.filter,
          runtime: 'envoy.wasm.runtime.v8',
          code: { local: { filename: options.modulePath ?? `/etc/envoy/wasm/${options.filter}.wasm` } },
        },
        ...(configuration === undefined ? {} : { configuration: { '@type': 'type.googleapis.com/google.protobuf.StringValue',
          value: typeof configuration === 'string' ? configuration : JSON.stringify(configuration) } }),
      },
    },
  };
}

export interface HttpBootstrapOptions {
  admin: { address: string; port: number };
  listener: { address: string; port: number };
  routeName: string;
  virtualHost: string;
  routes: Json[];
  /** The HTTP filters before the router. */
  filters: Json[];
  clusters: Json[];
  /**
   * An edge listener: paths normalized before any filter (escaped slashes redirected), and no
   * client may send Istio's peer metadata headers.
   */
  edge?: boolean;
  /** At the edge, more request headers only the filters may set (header-routing's cluster header). */
  filterOwnedHeaders?: string[];
  /** The listener's transport socket (a DownstreamTlsContext for TLS). */
  transportSocket?: Json;
}

/** Paths as the upstream will see them, so a rule on /admin cannot be dodged with /./admin or %2F. */
export const EDGE_PATH_NORMALIZATION = { normalize_path: true, merge_slashes: true, path_with_escaped_slashes_action: 'UNESCAPE_AND_REDIRECT' };

/**
 * Removes client-sent peer metadata headers (and headers only a filter may set) before the
 * filters, so no client claims to be a mesh workload or picks a cluster itself.
 */
export function edgeHeaderRemoval(filterOwned: string[] = []): Json {
  const names = ['x-envoy-peer-metadata', 'x-envoy-peer-metadata-id', ...filterOwned];
  return {
    name: 'envoy.filters.http.header_mutation',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.header_mutation.v3.HeaderMutation',
      mutations: { request_mutations: names.map((remove) => ({ remove })) },
    },
  };
}

/** A static bootstrap: admin, one HTTP listener with one virtual host, the filters then the router, the clusters. */
export function httpBootstrap(o: HttpBootstrapOptions): Json {
  const socket = (where: { address: string; port: number }) => ({ socket_address: { address: where.address, port_value: where.port } });
  return {
    admin: { address: socket(o.admin) },
    static_resources: {
      listeners: [{
        name: 'ingress',
        address: socket(o.listener),
        filter_chains: [{ ...(o.transportSocket ? { transport_socket: o.transportSocket } : {}), filters: [{
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
            stat_prefix: 'ingress_http',
            ...(o.edge ? EDGE_PATH_NORMALIZATION : {}),
            route_config: { name: o.routeName, virtual_hosts: [{ name: o.virtualHost, domains: ['*'], routes: o.routes }] },
            http_filters: [...(o.edge ? [edgeHeaderRemoval(o.filterOwnedHeaders)] : []), ...o.filters, ROUTER_FILTER],
          },
        }] }],
      }],
      clusters: o.clusters,
    },
  };
}

/** header-routing's cluster targets and the header it writes them to. */
export function routingTargets(configuration: Record<string, unknown>): { header: string; clusters: string[] } {
  const rules = Array.isArray(configuration.rules) ? configuration.rules as { targets?: { cluster?: unknown }[] }[] : [];
  const names = rules.flatMap((r) => (Array.isArray(r.targets) ? r.targets : []).map((t) => t.cluster)).filter((c): c is string => typeof c === 'string');
  const header = typeof configuration.cluster_header === 'string' ? configuration.cluster_header : 'x-route-cluster';
  return { header, clusters: [...new Set(names)] };
}

/**
 * The jwt_authn filter access-control's `jwt` needs in front of it: it verifies tokens and
 * records the payload in its dynamic metadata under `payload_in_metadata`. The issuer comes from the policies' request
 * principals (`<issuer>/<subject>`) when they name one; edit it and the JWKS address to yours.
 */
function jwtAuthn(configuration: Record<string, unknown>): { filter: Record<string, unknown>; jwks: Record<string, unknown> } | undefined {
  const jwt = configuration.jwt as { payload_in_metadata?: string | string[] } | undefined;
  if (!jwt || typeof jwt !== 'object') return undefined;
  const principals = JSON.stringify(configuration.policies ?? []).match(/"request_principals":\["(https:\/\/[^"/]+)\//);
  const issuer = principals ? principals[1] : 'https://issuer.example.com';
  const host = new URL(issuer).hostname;
  const filter = {
    name: 'envoy.filters.http.jwt_authn',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
      providers: { issuer: {
        issuer,
        payload_in_metadata: [jwt.payload_in_metadata ?? 'jwt_payload'].flat()[0],
        remote_jwks: { http_uri: { uri: `${issuer}/.well-known/jwks.json`, cluster: 'jwks', timeout: '2s' }, cache_duration: '300s' },
      } },
      // Requests without a token pass on: access-control decides what they may do.
      rules: [{ match: { prefix: '/' }, requires: { requires_any: { requirements: [{ provider_name: 'issuer' }, { allow_missing: {} }] } } }],
    },
  };
  const jwks = {
    ...cluster('jwks', host, 443),
    transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', sni: host } },
  };
  return { filter, jwks };
}

/** What `wfk envoy-config` needs: a filter and its configuration as an object. */
export interface BootstrapOptions extends EnvoyConfigOptions { configuration: Record<string, unknown> }

export function envoyBootstrap(options: BootstrapOptions): Record<string, unknown> {
  const clusters = [cluster('backend', 'backend', 8080)];
  const routes: Record<string, unknown>[] = [{ match: { prefix: '/' }, route: { cluster: 'backend' } }];
  const filterOwnedHeaders: string[] = [];
  const service = options.configuration.rate_limit_service as { cluster?: string } | undefined;
  if (options.filter === 'rate-quota' && service?.cluster) clusters.push(cluster(service.cluster, service.cluster, 8081, true));
  if (options.filter === 'header-routing') {
    // The filter names a cluster in a header; a cluster_header route must read it, and every target must exist.
    const targets = routingTargets(options.configuration);
    filterOwnedHeaders.push(targets.header);
    if (targets.clusters.length > 0) {
      routes.unshift({ match: { prefix: '/', headers: [{ name: targets.header, present_match: true }] }, route: { cluster_header: targets.header } });
      for (const name of targets.clusters) if (name !== 'backend') clusters.push(cluster(name, name, 8080));
    }
  }
  const httpFilters = [wasmFilter(options)];
  const jwt = options.filter === 'access-control' ? jwtAuthn(options.configuration) : undefined;
  if (jwt) {
    httpFilters.unshift(jwt.filter);
    clusters.push(jwt.jwks);
  }
  const bootstrap = httpBootstrap({
    admin: { address: '127.0.0.1', port: 9901 }, listener: { address: '0.0.0.0', port: 10000 },
    routeName: 'local_route', virtualHost: 'backend', routes, filters: httpFilters, clusters, edge: true, filterOwnedHeaders,
  });
  if (options.filter === 'telemetry') {
    bootstrap.stats_config = { use_all_default_tags: false, stats_tags: statsTagsFor(telemetryLabels(options.configuration)) };
  }
  return bootstrap;
}

export interface WasmPluginOptions {
  filter: string;
  configuration: Record<string, unknown>;
  /** The image reference, e.g. registry.example.com/filters/rate-quota:1.0.0. */
  image: string;
  module: Uint8Array;
  namespace?: string;
  selector?: Record<string, string>;
  failOpen?: boolean;
}

/**
 * The sha256 Istio checks the pulled image against: its manifest digest. Taken from an
 * `@sha256:` reference, else the digest of the image `wfk push` publishes for this module
 * (the compat image is reproducible, so the module alone determines it).
 */
function imageDigest(image: string, module: Uint8Array): string {
  const at = image.indexOf('@sha256:');
  return at >= 0 ? image.slice(at + 8) : compatImage(module).digest.slice(7);
}

/** A configuration `wfk envoy-config` cannot deploy as asked; the message says what to change. */
export class DeploymentError extends Error {}

/** The issuers access-control's policies name in request principals (`<issuer>/<subject>`). */
function policyIssuers(configuration: Record<string, unknown>): string[] {
  const issuers = new Set<string>();
  for (const m of JSON.stringify(configuration.policies ?? []).matchAll(/"(?:not_)?request_principals":\[([^\]]*)\]/g)) {
    for (const item of m[1].matchAll(/"([^"]*)"/g)) {
      const slash = item[1].lastIndexOf('/');
      if (slash > 0 && !item[1].slice(0, slash).includes('*')) issuers.add(item[1].slice(0, slash));
    }
  }
  return [...issuers];
}

/**
 * Istio verifies JWTs with a RequestAuthentication; its jwt_authn stores each verified payload
 * in dynamic metadata under the issuer, so access-control must read those keys. The manifest is
 * derived from the policies' issuers, or refused when it cannot be.
 */
function istioRequestAuthentication(options: WasmPluginOptions): Record<string, unknown> | undefined {
  const jwt = options.configuration.jwt as { payload_in_metadata?: string | string[]; payload_header?: string } | undefined;
  if (options.filter !== 'access-control' || !jwt) return undefined;
  if (jwt.payload_header) {
    throw new DeploymentError('jwt.payload_header: in Istio read the verified payload from dynamic metadata instead: set "payload_in_metadata" to the issuer(s)');
  }
  const issuers = policyIssuers(options.configuration);
  if (issuers.length === 0) {
    throw new DeploymentError('jwt: no policy names an issuer in request_principals ("<issuer>/<subject>"), so the RequestAuthentication cannot be derived; name the issuer or write the RequestAuthentication yourself');
  }
  const keys = [jwt.payload_in_metadata ?? []].flat();
  const missing = issuers.filter((i) => !keys.includes(i));
  if (missing.length > 0) {
    throw new DeploymentError(`jwt.payload_in_metadata: Istio stores a verified payload under its issuer; set it to ${JSON.stringify(issuers.length === 1 ? issuers[0] : issuers)}`);
  }
  return {
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication',
    metadata: { name: options.filter, namespace: options.namespace ?? 'istio-system' },
    spec: {
      ...(options.selector ? { selector: { matchLabels: options.selector } } : {}),
      // Edit jwksUri if the issuer does not publish its keys there.
      jwtRules: issuers.map((issuer) => ({ issuer, jwksUri: `${issuer.replace(/\/$/, '')}/.well-known/jwks.json` })),
    },
  };
}

/** The manifests that deploy a filter in Istio: its WasmPlugin, and what the filter relies on. */
export function istioManifests(options: WasmPluginOptions): Record<string, unknown>[] {
  const authentication = istioRequestAuthentication(options);
  return authentication ? [istioWasmPlugin(options), authentication] : [istioWasmPlugin(options)];
}

export function istioWasmPlugin(options: WasmPluginOptions): Record<string, unknown> {
  return {
    apiVersion: 'extensions.istio.io/v1alpha1',
    kind: 'WasmPlugin',
    metadata: { name: options.filter, namespace: options.namespace ?? 'istio-system' },
    spec: {
      ...(options.selector ? { selector: { matchLabels: options.selector } } : {}),
      url: options.image.startsWith('oci://') ? options.image : `oci://${options.image}`,
      sha256: imageDigest(options.image, options.module),
      imagePullPolicy: 'IfNotPresent',
      phase: ISTIO_PHASE[options.filter] ?? 'UNSPECIFIED_PHASE',
      priority: ISTIO_PRIORITY[options.filter] ?? 0,
      pluginName: options.filter,
      failStrategy: options.failOpen ? 'FAIL_OPEN' : 'FAIL_CLOSE',
      pluginConfig: options.configuration,
    },
  };
}
