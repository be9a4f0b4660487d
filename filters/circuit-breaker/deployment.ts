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
  // The header naming a cluster (the fallback's, or the one the key is read from) must come from
  // a filter, never from a client: a client that could send it would charge its failures to
  // another cluster's circuit, or pick its own cluster.
  clusterHeader(configuration) {
    const f = fallback(configuration);
    if (typeof f.cluster === 'string') return typeof f.cluster_header === 'string' ? f.cluster_header : 'x-route-cluster';
    const key = configuration.key as { source?: unknown; header?: unknown } | undefined;
    return (key?.source ?? 'cluster') === 'cluster' && typeof key?.header === 'string' ? key.header : undefined;
  },
  statsTags: () => statsTagsFor(['circuit']),
};
export default deployment;
