// How rate-quota is deployed (read by wfk envoy-config and wfk service-config): Istio runs it in
// AUTHZ after access control; in global mode it calls envoyproxy/ratelimit over gRPC (HTTP/2),
// whose limits come from the same configuration.
import type { FilterDeployment } from '../../cli/deployment.js';
import { rateLimitConfig } from './ratelimit-config.js';

const deployment: FilterDeployment = {
  istio: { phase: 'AUTHZ', priority: 10 },
  clusters(configuration) {
    const service = configuration.rate_limit_service as { cluster?: unknown } | undefined;
    return typeof service?.cluster === 'string' ? [{ name: service.cluster, port: 8081, http2: true }] : [];
  },
  // Local mode calls no service: rateLimitConfig says so, naming the field.
  serviceConfig: (configuration) => ({ service: 'envoyproxy/ratelimit', text: rateLimitConfig(configuration) }),
};
export default deployment;
