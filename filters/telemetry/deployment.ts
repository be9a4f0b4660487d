// How telemetry is deployed (read by wfk envoy-config, stats-tags and run): Istio runs it in
// STATS; its metric names carry their labels, which Envoy's stats_tags turn back into labels.
import { readFileSync } from 'node:fs';
import type { Configuration, FilterDeployment } from '../../cli/deployment.js';
import { statsTagsFor } from '../../cli/stats-tags.js';

/** Istio's standard labels, in the order the filter writes them: the schema's list. */
const ISTIO_LABELS: string[] = JSON.parse(readFileSync(new URL('./schema.json', import.meta.url), 'utf8')).properties.labels.items.enum;

/** The labels a configuration produces: its Istio labels, then its custom ones. */
export function telemetryLabels(configuration: Configuration): string[] {
  const labels = Array.isArray(configuration.labels) ? configuration.labels as string[] : ISTIO_LABELS;
  const custom = configuration.custom_labels && typeof configuration.custom_labels === 'object' ? Object.keys(configuration.custom_labels) : [];
  return [...labels, ...custom];
}

const deployment: FilterDeployment = {
  istio: { phase: 'STATS' },
  statsTags: (configuration) => statsTagsFor(telemetryLabels(configuration)),
};
export default deployment;
