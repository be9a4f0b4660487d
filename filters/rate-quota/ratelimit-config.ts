// `wfk service-config rate-quota`: the envoyproxy/ratelimit configuration for a rate-quota configuration
// in global mode, so the descriptors the filter sends and the limits the service holds come from
// one file. Each quota is one descriptor tree: ("quota", name), then one level per dimension in
// the quota's order, its limits at the deepest level. A level has an entry without a value
// (every value counts apart) and one per value an override names. The service takes a named
// value over the open entry level by level, where the filter takes the first override that
// matches; so every combination of levels gets the limit the filter would pick for it. Shadow
// quotas are shadow_mode.
import { stringify } from 'yaml';
import { DeploymentError } from '../../cli/deployment.js';

interface Quota {
  name: string;
  dimensions?: string[];
  max_amount: number;
  valid_duration: string;
  shadow?: boolean;
  overrides?: { dimensions: Record<string, string>; max_amount: number; valid_duration?: string }[];
}

interface Descriptor {
  key: string;
  value?: string;
  rate_limit?: { unit: string; requests_per_unit: number };
  shadow_mode?: boolean;
  descriptors?: Descriptor[];
}

const SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
// The service counts in fixed windows of one unit.
const UNITS: [number, string][] = [[1, 'second'], [60, 'minute'], [3600, 'hour'], [86400, 'day'], [604800, 'week']];

function unitOf(duration: string, field: string): string {
  const match = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(duration);
  const seconds = match ? Number(match[1]) * SECONDS[match[2]] : NaN;
  const unit = UNITS.find(([s]) => s === seconds);
  if (!unit) {
    throw new DeploymentError(`${field}: the rate limit service counts per second, minute, hour, day or week; "${duration}" is none of them (use 1s, 1m, 1h, 24h or 168h)`);
  }
  return unit[1];
}

/** A quota's trees grow with the product of the values its overrides name, kept readable. */
const MAX_LEAVES = 10_000;

/** The service's YAML for `config` (a rate-quota configuration object, global mode). */
export function rateLimitConfig(config: Record<string, unknown>): string {
  const service = config.rate_limit_service as { domain?: string } | undefined;
  if (config.mode !== 'global' || !service?.domain) {
    throw new DeploymentError('mode: the rate limit service serves global mode only ("mode": "global" with rate_limit_service.domain)');
  }
  const quotas = (config.quotas ?? []) as Quota[];
  return stringify({ domain: service.domain, descriptors: quotas.map((q, i) => quotaTree(q, `quotas[${i}]`)) });
}

function quotaTree(q: Quota, path: string): Descriptor {
  const dims = q.dimensions ?? [];
  const overrides = q.overrides ?? [];
  // Per level: the open entry (undefined) and every value an override names there.
  const choices = dims.map((d) => [undefined, ...new Set(overrides.map((o) => o.dimensions[d]).filter((v) => v !== undefined))]);
  if (choices.reduce((n, c) => n * c.length, 1) > MAX_LEAVES) {
    throw new DeploymentError(`${path}.overrides: more than ${MAX_LEAVES} combinations of override values`);
  }
  const limit = (values: (string | undefined)[]): Descriptor['rate_limit'] => {
    const index = overrides.findIndex((o) => Object.entries(o.dimensions).every(([d, v]) => values[dims.indexOf(d)] === v));
    const o = index >= 0 ? overrides[index] : undefined;
    const field = o ? `${path}.overrides[${index}]` : path;
    return { unit: unitOf(o?.valid_duration ?? q.valid_duration, `${field}.valid_duration`), requests_per_unit: o?.max_amount ?? q.max_amount };
  };
  const grow = (level: number, values: (string | undefined)[]): Descriptor[] => choices[level].map((value) => {
    const d: Descriptor = value === undefined ? { key: dims[level] } : { key: dims[level], value };
    const next = [...values, value];
    if (level + 1 < dims.length) d.descriptors = grow(level + 1, next);
    else leaf(d, next);
    return d;
  });
  const leaf = (d: Descriptor, values: (string | undefined)[]) => {
    d.rate_limit = limit(values);
    if (q.shadow) d.shadow_mode = true;
  };
  const top: Descriptor = { key: 'quota', value: q.name };
  if (dims.length === 0) leaf(top, []);
  else top.descriptors = grow(0, []);
  return top;
}
