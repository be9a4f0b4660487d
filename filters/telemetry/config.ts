// The telemetry configuration, checked once at configure; every error names its field.
import { ConfigReader, JsonValue, LogLevelValues, PEER_TRUST_MTLS, headerNameProblem, parsePeerTrust } from "../../assembly";

/** Istio's standard labels this filter can fill in. */
export const ISTIO_LABELS = [
  "reporter", "source_workload", "source_workload_namespace", "source_app", "source_version",
  "destination_workload", "destination_workload_namespace", "destination_app", "destination_version",
  "request_protocol", "response_code", "response_flags", "grpc_response_status",
];

export class CustomLabel {
  constructor(public name: string, public kind: string, public header: string, public property: string[]) {}
}

export class TelemetryConfig {
  /** "destination" (inbound sidecar) or "source" (outbound). */
  reporter: string = "destination";
  labels: string[] = [];
  custom: CustomLabel[] = [];
  maxSeries: i32 = 1000;
  overflowValue: string = "overflow";
  accessLog: bool = true;
  accessLogLevel: LogLevelValues = LogLevelValues.info;
  sampling: f64 = 100;
  logHeaders: string[] = [];
  tracing: bool = true;
  peerTrust: u8 = PEER_TRUST_MTLS;
}

export class ParsedConfig {
  constructor(public config: TelemetryConfig | null, public error: string) {}
}

const LABEL_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_";

function validLabelName(name: string): bool {
  if (name.length == 0 || name.charCodeAt(0) < 97 || name.charCodeAt(0) > 122) return false;
  for (let i = 0; i < name.length; i++) if (LABEL_NAME_CHARS.indexOf(name.charAt(i)) < 0) return false;
  return true;
}

export function parseConfig(text: string): ParsedConfig {
  const r = new ConfigReader();
  const root = r.parse(text);
  if (root === null || !r.object(root, "", ["reporter", "labels", "custom_labels", "max_series_per_metric", "overflow_value", "access_log", "tracing", "peer_metadata"])) {
    return new ParsedConfig(null, r.error);
  }
  const c = new TelemetryConfig();
  c.reporter = r.choice(root, "reporter", "", ["destination", "source"], "destination");
  c.peerTrust = parsePeerTrust(r, root);
  const labels = root.get("labels");
  if (labels === null) {
    for (let i = 0; i < ISTIO_LABELS.length; i++) c.labels.push(ISTIO_LABELS[i]);
  } else if (r.array(labels, "labels")) {
    for (let i = 0; i < labels.items.length; i++) {
      const l = labels.items[i];
      if (!l.isString() || !ISTIO_LABELS.includes(l.string)) {
        r.fail("labels[" + i.toString() + "]", (l.isString() ? "\"" + l.string + "\"" : l.kindName()) + " is not an Istio label (" + ISTIO_LABELS.join(", ") + ")");
        break;
      }
      if (c.labels.includes(l.string)) { r.fail("labels[" + i.toString() + "]", "\"" + l.string + "\" is listed twice"); break; }
      c.labels.push(l.string);
    }
  }
  const custom = root.get("custom_labels");
  if (custom !== null && r.object(custom, "custom_labels", custom.keys)) {
    for (let i = 0; i < custom.keys.length && r.ok; i++) {
      const name = custom.keys[i];
      const at = "custom_labels." + name;
      if (!validLabelName(name)) { r.fail(at, "label names are lower-case letters, digits and _ (starting with a letter)"); break; }
      if (ISTIO_LABELS.includes(name)) { r.fail(at, "\"" + name + "\" is an Istio label; list it in labels instead"); break; }
      parseCustom(r, custom.items[i], at, name, c);
    }
  }
  c.maxSeries = <i32>r.integer(root, "max_series_per_metric", "", 1, 1_000_000, 1000);
  const overflow = r.string(root, "overflow_value", "", c.overflowValue);
  if (overflow !== null) c.overflowValue = overflow;
  const log = root.get("access_log");
  if (log !== null && log.isBool()) c.accessLog = log.bool;
  else if (log !== null && r.object(log, "access_log", ["enabled", "level", "sampling_percentage", "headers"])) {
    c.accessLog = r.bool(log, "enabled", "access_log", true);
    const level = r.choice(log, "level", "access_log", ["trace", "debug", "info", "warn", "error", "critical"], "info");
    c.accessLogLevel = level == "trace" ? LogLevelValues.trace : level == "debug" ? LogLevelValues.debug : level == "warn" ? LogLevelValues.warn
      : level == "error" ? LogLevelValues.error : level == "critical" ? LogLevelValues.critical : LogLevelValues.info;
    c.sampling = r.number(log, "sampling_percentage", "access_log", 0, 100, 100);
    const headers = log.get("headers");
    if (headers !== null && r.array(headers, "access_log.headers")) {
      for (let i = 0; i < headers.items.length; i++) {
        const h = headers.items[i];
        const problem = h.isString() ? headerNameProblem(h.string) : "expected a header name";
        if (problem.length > 0) { r.fail("access_log.headers[" + i.toString() + "]", problem); break; }
        c.logHeaders.push(h.string);
      }
    }
  }
  c.tracing = r.bool(root, "tracing", "", true);
  return r.ok ? new ParsedConfig(c, "") : new ParsedConfig(null, r.error);
}

function parseCustom(r: ConfigReader, value: JsonValue, at: string, name: string, c: TelemetryConfig): void {
  if (!r.object(value, at, ["header", "property"]) || value.keys.length != 1) {
    r.fail(at, "expected {\"header\": \"name\"} or {\"property\": [\"segment\", ...]}");
    return;
  }
  const v = value.items[0];
  if (value.keys[0] == "header") {
    const problem = v.isString() ? headerNameProblem(v.string) : "expected a header name";
    if (problem.length > 0) { r.fail(at + ".header", problem); return; }
    c.custom.push(new CustomLabel(name, "header", v.string, []));
    return;
  }
  if (!v.isArray() || v.items.length == 0) { r.fail(at + ".property", "expected a path of segments such as [\"xds\", \"route_name\"]"); return; }
  const path = new Array<string>();
  for (let i = 0; i < v.items.length; i++) {
    if (!v.items[i].isString()) { r.fail(at + ".property[" + i.toString() + "]", "expected a string"); return; }
    path.push(v.items[i].string);
  }
  c.custom.push(new CustomLabel(name, "property", "", path));
}
