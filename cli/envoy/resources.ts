// The Envoy resources wfk's bootstraps are made of: clusters, the wasm filter stanza, and a
// static bootstrap with one HTTP listener whose edge no client can use to dodge the filters.
import { stringify } from 'yaml';

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
  /** At the edge, more request headers only the filters may set (e.g. a routing filter's cluster header). */
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

/**
 * YAML for Envoy (yaml-cpp) and Kubernetes (go-yaml), which read YAML 1.1: there yes, no, on and
 * off are booleans, so strings that look like them are quoted.
 */
export function toYaml(document: unknown): string {
  return stringify(document, { version: '1.1' });
}
