// How circuit-breaker is deployed (read by wfk envoy-config and wfk run): after any re-routing
// filter (so it sees the cluster chosen), its fallback cluster reached through a cluster_header
// route, and its per-circuit metrics labelled for Prometheus.
import type { Configuration, FilterDeployment } from '../../cli/deployment.js';
import { statsTagsFor } from '../../cli/stats-tags.js';

function fallback(configuration: Configuration): { cluster?: unknown; cluster_header?: unknown } {
  const f = configuration.fallback;
  return f && typeof f === 'object' ? f as { cluster?: unknown; cluster_header?: unknown } : {};
}

const deployment: FilterDeployment = {
  // Within Istio's phase a higher priority runs first: after header-routing (priority 0).
  istio: { phase: 'UNSPECIFIED_PHASE', priority: -10 },
  clusters(configuration) {
    const { cluster } = fallback(configuration);
    return typeof cluster === 'string' ? [{ name: cluster, port: 8080 }] : [];
  },
  clusterHeader(configuration) {
    const f = fallback(configuration);
    if (typeof f.cluster !== 'string') return undefined;
    return typeof f.cluster_header === 'string' ? f.cluster_header : 'x-route-cluster';
  },
  statsTags: () => statsTagsFor(['circuit']),
};
export default deployment;
