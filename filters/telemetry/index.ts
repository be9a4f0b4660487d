// telemetry: Istio's standard metrics, a JSON access log and W3C trace context from inside the
// proxy. The ABI has no metric labels, so labels are encoded in metric names
// ("reporter=.=destination;.;...;istio_requests_total") and Envoy's stats_tags (which `wfk
// stats-tags` prints) turn them back into Prometheus labels.
export * from "../../assembly/proxy";
import {
  Context, Counter, FilterHeadersStatusValues, HeaderMapTypeValues, Histogram, JsonValue, LogLevelValues, PeerMetadataCounters, RootContext,
  getHeader, getPropertyInt64, getPropertyString, log, logEnabled, readPeerMetadata, registerRootContext, stream_context, sharedKeyPrefix, metricLabelValue,
} from "../../assembly";
import { SeriesLimit } from "./series";
import { TelemetryConfig, parseConfig } from "./config";
import { nextTraceparent, uuid4 } from "./trace";

const REQUESTS = "istio_requests_total";
const DURATION = "istio_request_duration_milliseconds";
const REQUEST_BYTES = "istio_request_bytes";
const RESPONSE_BYTES = "istio_response_bytes";

/** Envoy's response flag bits (StreamInfo::CoreResponseFlag) and their short names, in order. */
const FLAG_NAMES = ["LH", "UH", "UT", "LR", "UR", "UF", "UC", "UO", "NR", "DI", "FI", "RL", "UAEX", "RLSE", "DC", "URX", "SI", "IH", "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM", "DF", "DO"];

function responseFlags(bits: i64): string {
  if (bits <= 0) return "-";
  const names = new Array<string>();
  for (let i = 0; i < FLAG_NAMES.length; i++) if ((bits >> i) & 1) names.push(FLAG_NAMES[i]);
  return names.length == 0 ? "-" : names.join(",");
}

/** Longest label value kept (Kubernetes label values have at most 63 characters). */
function str(value: JsonValue | null): string | null {
  return value !== null && value.isString() ? value.string : null;
}

/** A workload's identity from node or peer metadata (Istio's WORKLOAD_NAME, NAMESPACE, LABELS). */
class Workload {
  name: string = "unknown";
  namespace: string = "unknown";
  app: string = "unknown";
  version: string = "unknown";

  static fromMetadata(metadata: JsonValue | null): Workload {
    const w = new Workload();
    if (metadata === null) return w;
    const name = str(metadata.get("WORKLOAD_NAME"));
    const ns = str(metadata.get("NAMESPACE"));
    const labels = metadata.get("LABELS");
    if (name !== null) w.name = name;
    if (ns !== null) w.namespace = ns;
    if (labels !== null) {
      const app = str(labels.get("app"));
      const version = str(labels.get("version"));
      if (app !== null) w.app = app;
      if (version !== null) w.version = version;
    }
    return w;
  }

  static local(): Workload {
    const w = new Workload();
    const name = getPropertyString(["xds", "node", "metadata", "WORKLOAD_NAME"]);
    const ns = getPropertyString(["xds", "node", "metadata", "NAMESPACE"]);
    const app = getPropertyString(["xds", "node", "metadata", "LABELS", "app"]);
    const version = getPropertyString(["xds", "node", "metadata", "LABELS", "version"]);
    if (name !== null) w.name = name;
    if (ns !== null) w.namespace = ns;
    if (app !== null) w.app = app;
    if (version !== null) w.version = version;
    return w;
  }
}

class TelemetryRoot extends RootContext {
  config: TelemetryConfig = new TelemetryConfig();
  local: Workload = new Workload();
  private counters: Map<string, Counter> = new Map();
  private histograms: Map<string, Histogram> = new Map();
  series: SeriesLimit | null = null;
  overflowed: Counter | null = null;
  readonly peerCounters: PeerMetadataCounters = new PeerMetadataCounters("telemetry");

  onConfigure(size: u32): bool {
    const parsed = parseConfig(this.getConfiguration());
    if (parsed.config === null) {
      log(LogLevelValues.error, parsed.error);
      return false;
    }
    this.config = parsed.config!;
    this.local = Workload.local();
    this.overflowed = new Counter("telemetry.series_overflow");
    this.series = new SeriesLimit(sharedKeyPrefix("telemetry"), this.config.maxSeries);
    return true;
  }

  /** The encoded labels every metric of this request carries, or the overflow labels once there are too many series. */
  seriesLabels(names: string[], values: string[]): string {
    let labels = "";
    for (let i = 0; i < names.length; i++) labels += names[i] + "=.=" + metricLabelValue(values[i]) + ";.;";
    if (this.series!.admit(labels)) return labels;
    this.overflowed!.increment(1);
    labels = "";
    for (let i = 0; i < names.length; i++) {
      labels += names[i] + "=.=" + (names[i] == "reporter" ? metricLabelValue(values[i]) : this.config.overflowValue) + ";.;";
    }
    return labels;
  }

  increment(name: string): void {
    if (!this.counters.has(name)) this.counters.set(name, new Counter(name));
    this.counters.get(name).increment(1);
  }

  record(name: string, value: i64): void {
    if (value < 0) return;
    if (!this.histograms.has(name)) this.histograms.set(name, new Histogram(name));
    this.histograms.get(name).record(<u64>value);
  }

  createContext(id: u32): Context { return new Telemetry(id, this); }
}

function escapeJson(s: string): string {
  let out = "\"";
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 34 || c == 92 || c < 32 || c == 0x2028 || c == 0x2029) {
      out += s.substring(run, i);
      if (c == 34) out += "\\\"";
      else if (c == 92) out += "\\\\";
      else if (c == 10) out += "\\n";
      else if (c == 13) out += "\\r";
      else if (c == 9) out += "\\t";
      else out += "\\u" + (c < 16 ? "000" : c < 256 ? "00" : "") + c.toString(16);
      run = i + 1;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate cannot be encoded as UTF-8: replace it.
      const paired = c < 0xdc00 && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
      if (paired) { i++; continue; }
      out += s.substring(run, i) + "\\ufffd";
      run = i + 1;
    }
  }
  return out + s.substring(run) + "\"";
}

function field(name: string, value: string | null): string {
  return escapeJson(name) + ":" + (value === null ? "null" : escapeJson(value));
}

function numberField(name: string, value: i64): string {
  return escapeJson(name) + ":" + (value < 0 ? "null" : value.toString());
}

class Telemetry extends Context {
  private traceId: string = "";

  private get telemetryRoot(): TelemetryRoot { return this.root_context as TelemetryRoot; }

  onRequestHeaders(count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    if (!this.telemetryRoot.config.tracing) return FilterHeadersStatusValues.Continue;
    const trace = nextTraceparent(stream_context.headers.request.getOrNull("traceparent"));
    stream_context.headers.request.replace("traceparent", trace.header());
    // W3C: vendors' state belongs to the trace it came with; a new trace starts without it.
    if (!trace.continued && stream_context.headers.request.getOrNull("tracestate") !== null) stream_context.headers.request.remove("tracestate");
    this.traceId = trace.traceId;
    if (stream_context.headers.request.getOrNull("x-request-id") === null) stream_context.headers.request.replace("x-request-id", uuid4());
    return FilterHeadersStatusValues.Continue;
  }

  onLog(): void {
    const root = this.telemetryRoot;
    const config = root.config;
    const status = getHeader(HeaderMapTypeValues.ResponseHeaders, ":status");
    const code = status === null ? "0" : status;
    // The peer is the client for a destination reporter, the upstream for a source reporter.
    const peerMetadata = readPeerMetadata(config.peerTrust, config.reporter != "destination");
    root.peerCounters.count(peerMetadata.outcome);
    const peer = Workload.fromMetadata(peerMetadata.metadata);
    const source = config.reporter == "destination" ? peer : root.local;
    const destination = config.reporter == "destination" ? root.local : peer;
    const contentType = getHeader(HeaderMapTypeValues.RequestHeaders, "content-type");
    const grpc = contentType !== null && contentType.startsWith("application/grpc");
    let grpcStatus = getHeader(HeaderMapTypeValues.ResponseTrailers, "grpc-status");
    if (grpcStatus === null) grpcStatus = getHeader(HeaderMapTypeValues.ResponseHeaders, "grpc-status");

    const names = new Array<string>();
    const values = new Array<string>();
    for (let i = 0; i < config.labels.length; i++) {
      const label = config.labels[i];
      names.push(label);
      if (label == "reporter") values.push(config.reporter);
      else if (label == "source_workload") values.push(source.name);
      else if (label == "source_workload_namespace") values.push(source.namespace);
      else if (label == "source_app") values.push(source.app);
      else if (label == "source_version") values.push(source.version);
      else if (label == "destination_workload") values.push(destination.name);
      else if (label == "destination_workload_namespace") values.push(destination.namespace);
      else if (label == "destination_app") values.push(destination.app);
      else if (label == "destination_version") values.push(destination.version);
      else if (label == "request_protocol") values.push(grpc ? "grpc" : "http");
      else if (label == "response_code") values.push(code);
      else if (label == "response_flags") values.push(responseFlags(getPropertyInt64(["response", "flags"], 0)));
      else values.push(grpcStatus === null ? "unknown" : grpcStatus);
    }
    for (let i = 0; i < config.custom.length; i++) {
      const c = config.custom[i];
      const v = c.kind == "header" ? getHeader(HeaderMapTypeValues.RequestHeaders, c.header) : getPropertyString(c.property);
      names.push(c.name);
      values.push(v === null ? "unknown" : v);
    }

    const durationNs = getPropertyInt64(["request", "duration"], -1);
    const requestBytes = getPropertyInt64(["request", "total_size"], -1);
    const responseBytes = getPropertyInt64(["response", "total_size"], -1);
    const labels = root.seriesLabels(names, values);
    root.increment(labels + REQUESTS);
    if (durationNs >= 0) root.record(labels + DURATION, durationNs / 1_000_000);
    root.record(labels + REQUEST_BYTES, requestBytes);
    root.record(labels + RESPONSE_BYTES, responseBytes);

    if (config.accessLog && logEnabled(config.accessLogLevel) && (config.sampling >= 100 || Math.random() * 100 < config.sampling)) {
      this.accessLog(code, durationNs, requestBytes, responseBytes);
    }
  }

  private accessLog(code: string, durationNs: i64, requestBytes: i64, responseBytes: i64): void {
    const config = this.telemetryRoot.config;
    const request = HeaderMapTypeValues.RequestHeaders;
    const parts = new Array<string>();
    parts.push(field("method", getHeader(request, ":method")));
    parts.push(field("path", getHeader(request, ":path")));
    parts.push(numberField("status", I64.parseInt(code)));
    parts.push(numberField("duration_ms", durationNs < 0 ? -1 : durationNs / 1_000_000));
    parts.push(numberField("request_bytes", requestBytes));
    parts.push(numberField("response_bytes", responseBytes));
    parts.push(field("upstream_cluster", getPropertyString(["xds", "cluster_name"])));
    parts.push(field("request_id", getHeader(request, "x-request-id")));
    parts.push(field("trace_id", this.traceId.length > 0 ? this.traceId : null));
    parts.push(field("user_agent", getHeader(request, "user-agent")));
    for (let i = 0; i < config.logHeaders.length; i++) {
      parts.push(field(config.logHeaders[i], getHeader(request, config.logHeaders[i])));
    }
    log(config.accessLogLevel, "{" + parts.join(",") + "}");
  }
}

registerRootContext((id: u32): RootContext => new TelemetryRoot(id), "telemetry");
