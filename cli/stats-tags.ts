// Envoy's stats_tags for metric names that carry their labels as `<label>=.=<value>;.;`
// (the encoding Istio's stats filter uses, so Istio's dashboards read them).
import type { StatsTag } from '../host-sim/index.js';

/**
 * One tag per label. Envoy's tag regex: the first group is cut out of the stat name, the second
 * is the label's value.
 */
export function statsTagsFor(labels: string[]): StatsTag[] {
  return labels.map((label) => ({ tag_name: label, regex: `(${label}=\\.=(.*?);\\.;)` }));
}
