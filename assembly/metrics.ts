import { proxy_define_metric, proxy_get_metric, proxy_increment_metric, proxy_record_metric } from "./internal/imports";
import { OUT_U64, OUT_WORD } from "./internal/memory";
import { encode1, aPtr, aLen } from "./internal/utf8";
import { LogLevelValues, MetricTypeValues, WasmResultValues } from "./enums";
import { log } from "./log";

// Envoy stores custom metrics under the `wasmcustom.` prefix and shows them without it.

export class MetricResult {
  constructor(public result: WasmResultValues, public metric_id: u32) {}
}

export function define_metric(type: MetricTypeValues, name: string): MetricResult {
  encode1(name);
  store<u32>(OUT_WORD, 0);
  const result = <WasmResultValues>proxy_define_metric(<u32>type, aPtr, aLen, OUT_WORD);
  return new MetricResult(result, load<u32>(OUT_WORD));
}

export function increment_metric(metric_id: u32, offset: i64): WasmResultValues {
  return <WasmResultValues>proxy_increment_metric(metric_id, offset);
}

export function record_metric(metric_id: u32, value: u64): WasmResultValues {
  return <WasmResultValues>proxy_record_metric(metric_id, value);
}

export class MetricData {
  constructor(public result: WasmResultValues, public data: u64) {}
}

/** Reads a counter or gauge (histograms cannot be read: BadArgument). */
export function get_metric(metric_id: u32): MetricData {
  store<u64>(OUT_U64, 0);
  const result = <WasmResultValues>proxy_get_metric(metric_id, OUT_U64);
  return new MetricData(result, load<u64>(OUT_U64));
}

/** A metric defined once (define in onConfigure or onVmStart, not per request). */
export abstract class Metric {
  readonly metric_id: u32;
  readonly name: string;
  /** False when the host refused the definition; updates are then ignored. */
  readonly defined: bool;

  constructor(type: MetricTypeValues, name: string) {
    const defined = define_metric(type, name);
    this.name = name;
    this.metric_id = defined.metric_id;
    this.defined = defined.result == WasmResultValues.Ok;
    if (!this.defined) log(LogLevelValues.error, "cannot define metric " + name + ": result " + (<i32>defined.result).toString());
  }
}

export class Counter extends Metric {
  constructor(name: string) { super(MetricTypeValues.Counter, name); }

  /** Adds `offset` (> 0; Envoy rejects 0 and negative offsets for counters). */
  increment(offset: u32 = 1): WasmResultValues { return increment_metric(this.metric_id, <i64>offset); }

  get(): u64 { return get_metric(this.metric_id).data; }
}

export class Gauge extends Metric {
  constructor(name: string) { super(MetricTypeValues.Gauge, name); }

  /** Adds `offset`, which may be negative. */
  increment(offset: i64): WasmResultValues { return increment_metric(this.metric_id, offset); }

  /** Sets the gauge to `value`. */
  record(value: u64): WasmResultValues { return record_metric(this.metric_id, value); }

  get(): u64 { return get_metric(this.metric_id).data; }
}

export class Histogram extends Metric {
  constructor(name: string) { super(MetricTypeValues.Histogram, name); }

  /** Records one sample. */
  record(value: u64): WasmResultValues { return record_metric(this.metric_id, value); }
}

const MAX_LABEL_VALUE: i32 = 64;

/**
 * A label value (in a metric name's `label=.=value;.;` encoding) no client bytes can turn into
 * a broken or misleading series: printable ASCII only (no separator of the encoding, no quote or
 * backslash, no line break, nothing a Prometheus scrape could choke on), each other character
 * as '_', at most 64 characters; "unknown" for an empty value. Safe in a log line too.
 */
export function metricLabelValue(v: string): string {
  if (v.length == 0) return "unknown";
  const length = min(v.length, MAX_LABEL_VALUE);
  let clean = true;
  for (let i = 0; i < length && clean; i++) clean = safeInLabel(v.charCodeAt(i));
  if (clean) return length == v.length ? v : v.substring(0, length);
  let out = "";
  for (let i = 0; i < length; i++) {
    const c = v.charCodeAt(i);
    out += safeInLabel(c) ? String.fromCharCode(c) : "_";
  }
  return out;
}

function safeInLabel(c: i32): bool {
  return c > 0x20 && c < 0x7f && c != 0x3b && c != 0x3d && c != 0x22 && c != 0x5c;
}
