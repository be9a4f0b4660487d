// wfk envoy-config: an Envoy v3 bootstrap that mounts a filter, or the Istio manifests that
// deploy it from an OCI registry. What a filter needs around it comes from its deployment facts.
import type { Configuration, FilterDeployment, Json } from './deployment.js';
import { cluster, httpBootstrap, wasmFilter, type EnvoyConfigOptions } from './envoy/resources.js';
import { compatImage } from './oci/layout.js';

/** What `wfk envoy-config` needs: a filter, its configuration as an object and its deployment facts. */
export interface BootstrapOptions extends EnvoyConfigOptions { configuration: Configuration; deployment: FilterDeployment }

/**
 * The edge of a proxy in front of one service ("backend"): the filter, what its deployment facts
 * put before it, the clusters it names, and a cluster_header route when it routes.
 */
export function envoyBootstrap(options: BootstrapOptions): Json {
  const { configuration, deployment } = options;
  const clusters = [cluster('backend', 'backend', 8080)];
  const routes: Json[] = [{ match: { prefix: '/' }, route: { cluster: 'backend' } }];
  for (const need of deployment.clusters?.(configuration) ?? []) {
    if (!clusters.some((c) => c.name === need.name)) clusters.push(cluster(need.name, need.name, need.port, need.http2));
  }
  const header = deployment.clusterHeader?.(configuration);
  if (header) routes.unshift({ match: { prefix: '/', headers: [{ name: header, present_match: true }] }, route: { cluster_header: header } });
  const before = deployment.filtersBefore?.(configuration) ?? { filters: [], clusters: [] };
  const bootstrap = httpBootstrap({
    admin: { address: '127.0.0.1', port: 9901 }, listener: { address: '0.0.0.0', port: 10000 },
    routeName: 'local_route', virtualHost: 'backend', routes, filters: [...before.filters, wasmFilter(options)],
    clusters: [...clusters, ...before.clusters], edge: true, filterOwnedHeaders: header ? [header] : [],
  });
  const statsTags = deployment.statsTags?.(configuration);
  if (statsTags) bootstrap.stats_config = { use_all_default_tags: false, stats_tags: statsTags };
  return bootstrap;
}

export interface WasmPluginOptions {
  filter: string;
  configuration: Configuration;
  deployment: FilterDeployment;
  /** The image reference, e.g. registry.example.com/filters/my-filter:1.0.0. */
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

/** The manifests that deploy a filter in Istio: its WasmPlugin, and what the filter relies on. */
export function istioManifests(options: WasmPluginOptions): Json[] {
  const placement = { name: options.filter, namespace: options.namespace ?? 'istio-system', selector: options.selector };
  return [istioWasmPlugin(options), ...options.deployment.istioCompanions?.(options.configuration, placement) ?? []];
}

export function istioWasmPlugin(options: WasmPluginOptions): Json {
  const { istio } = options.deployment;
  return {
    apiVersion: 'extensions.istio.io/v1alpha1',
    kind: 'WasmPlugin',
    metadata: { name: options.filter, namespace: options.namespace ?? 'istio-system' },
    spec: {
      ...(options.selector ? { selector: { matchLabels: options.selector } } : {}),
      url: options.image.startsWith('oci://') ? options.image : `oci://${options.image}`,
      sha256: imageDigest(options.image, options.module),
      imagePullPolicy: 'IfNotPresent',
      phase: istio.phase,
      priority: istio.priority ?? 0,
      pluginName: options.filter,
      failStrategy: options.failOpen ? 'FAIL_OPEN' : 'FAIL_CLOSE',
      pluginConfig: options.configuration,
    },
  };
}
