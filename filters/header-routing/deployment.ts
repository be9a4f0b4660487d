// How header-routing is deployed (read by wfk envoy-config and wfk run): it names the upstream
// cluster in a request header, so a cluster_header route must read that header, every target
// must exist as a cluster, and no client may send the header itself.
import type { Configuration, FilterDeployment } from '../../cli/deployment.js';

/** The clusters the rules' targets name, once each. */
function targetClusters(configuration: Configuration): string[] {
  const rules = Array.isArray(configuration.rules) ? configuration.rules as { targets?: { cluster?: unknown }[] }[] : [];
  const names = rules.flatMap((r) => (Array.isArray(r.targets) ? r.targets : []).map((t) => t.cluster));
  return [...new Set(names.filter((c): c is string => typeof c === 'string'))];
}

const deployment: FilterDeployment = {
  istio: { phase: 'UNSPECIFIED_PHASE' },
  clusters: (configuration) => targetClusters(configuration).map((name) => ({ name, port: 8080 })),
  clusterHeader(configuration) {
    if (targetClusters(configuration).length === 0) return undefined;
    return typeof configuration.cluster_header === 'string' ? configuration.cluster_header : 'x-route-cluster';
  },
};
export default deployment;
