// The stats_config.stats_tags that turn the telemetry filter's label-encoded metric names
// ("reporter=.=destination;.;...;istio_requests_total") back into Prometheus labels.
import type { StatsTag } from '../host-sim/index.js';

export const ISTIO_LABELS = [
  'reporter', 'source_workload', 'source_workload_namespace', 'source_app', 'source_version',
  'destination_workload', 'destination_workload_namespace', 'destination_app', 'destination_version',
  'request_protocol', 'response_code', 'response_flags', 'grpc_response_status',
];

/** The labels a telemetry configuration produces: its Istio labels, then its custom ones. */
export function telemetryLabels(configuration: { labels?: string[]; custom_labels?: Record<string, unknown> }): string[] {
  return [...(configuration.labels ?? ISTIO_LABELS), ...Object.keys(configuration.custom_labels ?? {})];
}

/**
 * One tag per label. Envoy's tag regex: the first group is cut out of the stat name, the second
 * is the label's value.
 */
export function statsTagsFor(labels: string[]): StatsTag[] {
  return labels.map((label) => ({ tag_name: label, regex: `(${label}=\\.=(.*?);\\.;)` }));
}
