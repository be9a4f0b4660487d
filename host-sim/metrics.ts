// Custom metrics as Envoy keeps them: ids encode the type in their low bits, names get the
// `wasmcustom.` prefix internally, and the Prometheus output shows them without it, with
// tags extracted from names the way stats_config.stats_tags does.
import { MetricType, WasmResult } from './abi.js';

export type MetricKind = 'counter' | 'gauge' | 'histogram';
const KINDS: MetricKind[] = ['counter', 'gauge', 'histogram'];
const ID_INCREMENT = 0x4;

export interface Metric {
  id: number;
  kind: MetricKind;
  /** The name the module defined (without the wasmcustom. prefix). */
  name: string;
  value: bigint;
  samples: number[];
}

/** Envoy's stats_config.stats_tags entry: a regex whose first capture group is the tag value. */
export interface StatsTag { tag_name: string; regex: string }

export class MetricStore {
  private readonly byId = new Map<number, Metric>();
  private readonly byKindName = new Map<string, Metric>();
  private readonly nextId = [MetricType.Counter, MetricType.Gauge, MetricType.Histogram] as number[];

  /** Defines (or finds) a metric; a name defined twice with one type returns the same id. */
  define(type: number, name: string): { result: number; id?: number } {
    if (type < 0 || type > 2) return { result: WasmResult.BadArgument };
    const kind = KINDS[type];
    const key = `${kind}\0${name}`;
    const existing = this.byKindName.get(key);
    if (existing) return { result: WasmResult.Ok, id: existing.id };
    this.nextId[type] += ID_INCREMENT;
    const metric: Metric = { id: this.nextId[type], kind, name, value: 0n, samples: [] };
    this.byId.set(metric.id, metric);
    this.byKindName.set(key, metric);
    return { result: WasmResult.Ok, id: metric.id };
  }

  increment(id: number, offset: bigint): number {
    const metric = this.byId.get(id);
    if (!metric) return WasmResult.NotFound;
    if (metric.kind === 'counter') {
      if (offset <= 0n) return WasmResult.BadArgument;
      metric.value += offset;
    } else if (metric.kind === 'gauge') {
      metric.value += offset;
    } else {
      return WasmResult.BadArgument;
    }
    return WasmResult.Ok;
  }

  record(id: number, value: bigint): number {
    const metric = this.byId.get(id);
    if (!metric) return WasmResult.NotFound;
    const unsigned = BigInt.asUintN(64, value);
    if (metric.kind === 'counter') {
      metric.value += unsigned;
    } else if (metric.kind === 'gauge') {
      metric.value = unsigned;
    } else {
      metric.samples.push(Number(unsigned));
    }
    return WasmResult.Ok;
  }

  get(id: number): { result: number; value?: bigint } {
    const metric = this.byId.get(id);
    if (!metric) return { result: WasmResult.NotFound };
    if (metric.kind === 'histogram') return { result: WasmResult.BadArgument };
    return { result: WasmResult.Ok, value: metric.value };
  }

  /** The metric named `name` (as the module defined it). */
  find(name: string, kind?: MetricKind): Metric | undefined {
    for (const m of this.byId.values()) if (m.name === name && (!kind || m.kind === kind)) return m;
    return undefined;
  }

  /** Counter or gauge value by name (0 when undefined). */
  value(name: string): number {
    const m = this.find(name);
    return m ? Number(m.value) : 0;
  }

  all(): Metric[] { return [...this.byId.values()]; }

  /**
   * The metrics in Prometheus text format, as Envoy's /stats/prometheus shows them: tags
   * extracted with `statsTags` (each regex's first group is the value and is cut out of the name).
   */
  prometheus(statsTags: StatsTag[] = []): string {
    const lines: string[] = [];
    const typed = new Map<string, string>();
    const compiled = statsTags.map((t) => ({ name: t.tag_name, regex: new RegExp(t.regex, 'd') }));
    const series: { family: string; kind: MetricKind; labels: [string, string][]; metric: Metric }[] = [];
    for (const metric of this.all()) {
      let name = metric.name;
      const labels: [string, string][] = [];
      // Envoy's TagSpecifier: the first capture group is cut out of the name; the second
      // (usually inside the first) is the tag value, or the first when there is only one.
      for (const tag of compiled) {
        const m = tag.regex.exec(name);
        if (!m || m[1] === undefined || !m.indices?.[1]) continue;
        labels.push([tag.name, m[2] ?? m[1]]);
        const [from, to] = m.indices[1];
        name = name.slice(0, from) + name.slice(to);
      }
      const family = sanitize(name);
      series.push({ family, kind: metric.kind, labels, metric });
    }
    series.sort((a, b) => a.family.localeCompare(b.family) || labelText(a.labels).localeCompare(labelText(b.labels)));
    for (const s of series) {
      const promType = s.kind === 'histogram' ? 'histogram' : s.kind;
      if (!typed.has(s.family)) {
        typed.set(s.family, promType);
        lines.push(`# TYPE ${s.family} ${promType}`);
      }
      if (s.kind !== 'histogram') {
        lines.push(`${s.family}${labelText(s.labels)} ${s.metric.value}`);
        continue;
      }
      const samples = s.metric.samples;
      let cumulative = 0;
      for (const bound of HISTOGRAM_BUCKETS) {
        cumulative = samples.filter((v) => v <= bound).length;
        lines.push(`${s.family}_bucket${labelText([...s.labels, ['le', String(bound)]])} ${cumulative}`);
      }
      lines.push(`${s.family}_bucket${labelText([...s.labels, ['le', '+Inf']])} ${samples.length}`);
      lines.push(`${s.family}_sum${labelText(s.labels)} ${samples.reduce((a, b) => a + b, 0)}`);
      lines.push(`${s.family}_count${labelText(s.labels)} ${samples.length}`);
    }
    return lines.join('\n') + (lines.length ? '\n' : '');
  }
}

/** Envoy's default histogram bucket bounds. */
const HISTOGRAM_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

function sanitize(name: string): string {
  return name.replace(/[^a-zA-Z0-9_:]/g, '_');
}

function labelText(labels: [string, string][]): string {
  if (labels.length === 0) return '';
  return `{${labels.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}
