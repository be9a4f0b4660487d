// The header-routing configuration: ordered rules, each a match, targets (weighted) and an
// optional fault. Checked once at configure; every error names its field.
import { Cidr, ConfigReader, JsonValue, Regex, RegexEncoding, headerNameProblem, headerValueProblem } from "../../assembly";

/** One condition on a value: exact, prefix, suffix, contains, regex (whole value), present, absent. */
export class ValueMatch {
  name: string = "";
  kind: string = "";
  text: string = "";
  regex: Regex | null = null;
  invert: bool = false;

  /** Whether `value` (null when absent) satisfies the condition. */
  test(value: string | null): bool {
    let result: bool;
    if (this.kind == "present") result = value !== null;
    else if (this.kind == "absent") result = value === null;
    else if (value === null) result = false;
    else if (this.kind == "exact") result = value == this.text;
    else if (this.kind == "prefix") result = value.startsWith(this.text);
    else if (this.kind == "suffix") result = value.endsWith(this.text);
    else if (this.kind == "contains") result = value.includes(this.text);
    else result = this.regex!.fullMatch(value);
    return this.invert ? !result : result;
  }
}

export class Match {
  headers: ValueMatch[] = [];
  cookies: ValueMatch[] = [];
  queryParams: ValueMatch[] = [];
  path: ValueMatch | null = null;
  methods: string[] = [];
  sourceCidrs: Cidr[] = [];
}

export class Target {
  /** The cluster name, or "" when the target sets headers instead. */
  cluster: string = "";
  headerNames: string[] = [];
  headerValues: string[] = [];
  /** Share in basis points (1/100 of a percent). */
  weight: i32 = 10000;
  /** How metrics and the echo header name it. */
  label: string = "";
}

export class Fault {
  abortPercent: f64 = 0;
  abortStatus: u32 = 0;
  /** -1: no gRPC status. */
  abortGrpcStatus: i32 = -1;
  delayPercent: f64 = 0;
  delayNs: i64 = 0;
}

/** What the router retries and how often, as Istio's HTTPRetry: passed to Envoy's router in request headers. */
export class Retries {
  attempts: i32 = 2;
  /** Milliseconds; 0: the route's timeout bounds each attempt. */
  perTryTimeoutMs: i64 = 0;
  /** x-envoy-retry-on, x-envoy-retry-grpc-on and x-envoy-retriable-status-codes ("" when none). */
  httpOn: string = "";
  grpcOn: string = "";
  statusCodes: string = "";
}

/** Conditions of x-envoy-retry-on, and of x-envoy-retry-grpc-on (a gRPC status in the response). */
const HTTP_RETRY_ON = ["5xx", "gateway-error", "reset", "reset-before-request", "connect-failure", "envoy-ratelimited", "retriable-4xx", "refused-stream", "retriable-status-codes", "http3-post-connect-failure"];
const GRPC_RETRY_ON = ["cancelled", "deadline-exceeded", "internal", "resource-exhausted", "unavailable"];

/** The longest timeout a rule may set: a day, as a bound on how long a request is held. */
const MAX_TIMEOUT_MS: i64 = 86_400_000;

export class Rule {
  name: string = "";
  match: Match = new Match();
  targets: Target[] = [];
  /** "header" or "cookie" with its name; "" for uniform random splits. */
  stickyKind: string = "";
  stickyName: string = "";
  fault: Fault | null = null;
  /** The route timeout for requests this rule routes, in ms (0: the route's own). */
  timeoutMs: i64 = 0;
  retries: Retries | null = null;
}

export class RoutingConfig {
  rules: Rule[] = [];
  clusterHeader: string = "x-route-cluster";
  echoHeader: string = "";
  clusters: string[] = [];
  /**
   * The cluster header, every header a target sets and the router's timeout and retry headers:
   * removed from each request before routing, so only this filter's rules set them.
   */
  ownedHeaders: string[] = ["x-envoy-upstream-rq-timeout-ms", "x-envoy-upstream-rq-per-try-timeout-ms", "x-envoy-max-retries",
    "x-envoy-retry-on", "x-envoy-retry-grpc-on", "x-envoy-retriable-status-codes"];
  /** Faults (delays) in progress at once across the Envoy's workers; more are not injected. */
  maxActiveFaults: i32 = 100;
}

export class ParsedConfig {
  constructor(public config: RoutingConfig | null, public error: string) {}
}

const MATCH_KINDS = ["exact", "prefix", "suffix", "contains", "regex", "present", "absent"];

export function parseConfig(text: string): ParsedConfig {
  const r = new ConfigReader();
  const root = r.parse(text);
  if (root === null || !r.object(root, "", ["rules", "cluster_header", "echo_header", "clusters", "max_active_faults"])) return new ParsedConfig(null, r.error);
  const config = new RoutingConfig();
  config.maxActiveFaults = <i32>r.integer(root, "max_active_faults", "", 0, 1_000_000, 100);
  const clusterHeader = r.string(root, "cluster_header", "", config.clusterHeader);
  if (clusterHeader !== null) {
    const problem = headerNameProblem(clusterHeader);
    if (problem.length > 0) r.fail("cluster_header", problem);
    config.clusterHeader = clusterHeader;
  }
  const echo = root.get("echo_header");
  if (echo !== null) {
    if (!echo.isString() || headerNameProblem(echo.string).length > 0) r.fail("echo_header", "expected a lower-case header name");
    else config.echoHeader = echo.string;
  }
  const clusters = root.get("clusters");
  if (clusters !== null && r.array(clusters, "clusters")) {
    for (let i = 0; i < clusters.items.length; i++) {
      if (!clusters.items[i].isString()) { r.fail("clusters[" + i.toString() + "]", "expected a cluster name"); break; }
      config.clusters.push(clusters.items[i].string);
    }
  }
  config.ownedHeaders.push(config.clusterHeader);
  const rules = r.required(root, "rules", "");
  if (rules !== null && r.array(rules, "rules")) {
    for (let i = 0; i < rules.items.length && r.ok; i++) {
      const rule = parseRule(r, rules.items[i], "rules[" + i.toString() + "]", config, i);
      for (let j = 0; j < config.rules.length; j++) {
        if (config.rules[j].name == rule.name) r.fail("rules[" + i.toString() + "].name", "\"" + rule.name + "\" is used by rules[" + j.toString() + "] already");
      }
      config.rules.push(rule);
    }
  }
  return r.ok ? new ParsedConfig(config, "") : new ParsedConfig(null, r.error);
}

function parseRule(r: ConfigReader, value: JsonValue, path: string, config: RoutingConfig, index: i32): Rule {
  const rule = new Rule();
  if (!r.object(value, path, ["name", "match", "targets", "sticky_key", "fault", "timeout", "retries"])) return rule;
  const name = r.string(value, "name", path, "rule-" + index.toString());
  rule.name = name === null ? "" : name;
  if (r.ok && (rule.name.length == 0 || rule.name.indexOf(".") >= 0)) r.fail(path + ".name", "must be non-empty without '.'");
  const match = value.get("match");
  if (match !== null) rule.match = parseMatch(r, match, path + ".match");
  const targets = r.required(value, "targets", path);
  if (targets !== null && r.array(targets, path + ".targets")) {
    if (targets.items.length == 0) r.fail(path + ".targets", "must list at least one target");
    let total: i32 = 0;
    for (let i = 0; i < targets.items.length && r.ok; i++) {
      const t = parseTarget(r, targets.items[i], path + ".targets[" + i.toString() + "]", config, targets.items.length);
      total += t.weight;
      rule.targets.push(t);
    }
    if (r.ok && total != 10000) r.fail(path + ".targets", "weights must add up to 100, they add up to " + formatBasisPoints(total));
  }
  const sticky = value.get("sticky_key");
  if (sticky !== null && r.object(sticky, path + ".sticky_key", ["header", "cookie"])) {
    if (sticky.keys.length != 1 || !sticky.items[0].isString()) r.fail(path + ".sticky_key", "expected {\"header\": \"name\"} or {\"cookie\": \"name\"}");
    else { rule.stickyKind = sticky.keys[0]; rule.stickyName = sticky.items[0].string; }
  }
  const fault = value.get("fault");
  if (fault !== null) rule.fault = parseFault(r, fault, path + ".fault");
  rule.timeoutMs = milliseconds(r, value, "timeout", path);
  const retries = value.get("retries");
  if (retries !== null) rule.retries = parseRetries(r, retries, path + ".retries");
  return rule;
}

/** A duration field in whole milliseconds (the router's headers count in ms); 0 when absent. */
function milliseconds(r: ConfigReader, value: JsonValue, key: string, path: string): i64 {
  const ns = r.duration(value, key, path, 0);
  if (ns == 0) return 0;
  if (ns % 1_000_000 != 0) { r.fail(path + "." + key, "must be whole milliseconds (Envoy's router counts in ms)"); return 0; }
  if (ns / 1_000_000 > MAX_TIMEOUT_MS) { r.fail(path + "." + key, "must be at most 24h"); return 0; }
  return ns / 1_000_000;
}

function parseRetries(r: ConfigReader, value: JsonValue, path: string): Retries {
  const retries = new Retries();
  if (!r.object(value, path, ["attempts", "per_try_timeout", "retry_on"])) return retries;
  retries.attempts = <i32>r.integer(value, "attempts", path, 0, 10, 2);
  retries.perTryTimeoutMs = milliseconds(r, value, "per_try_timeout", path);
  const on = r.string(value, "retry_on", path, "5xx,connect-failure,reset");
  if (on === null) return retries;
  // As Istio's retryOn: Envoy's HTTP and gRPC conditions and status codes, comma-separated.
  const http = new Array<string>();
  const grpc = new Array<string>();
  const codes = new Array<string>();
  const parts = on.split(",");
  for (let i = 0; i < parts.length; i++) {
    const token = parts[i].trim();
    if (HTTP_RETRY_ON.includes(token)) http.push(token);
    else if (GRPC_RETRY_ON.includes(token)) grpc.push(token);
    else if (isStatusCode(token)) codes.push(token);
    else { r.fail(path + ".retry_on", "\"" + token + "\" is not a retry condition (" + HTTP_RETRY_ON.join(", ") + ", " + GRPC_RETRY_ON.join(", ") + " or a status code such as 503)"); return retries; }
  }
  if (codes.length > 0 && !http.includes("retriable-status-codes")) http.push("retriable-status-codes");
  retries.httpOn = http.join(",");
  retries.grpcOn = grpc.join(",");
  retries.statusCodes = codes.join(",");
  return retries;
}

function isStatusCode(token: string): bool {
  if (token.length != 3) return false;
  for (let i = 0; i < 3; i++) {
    const c = token.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  const code = I32.parseInt(token);
  return code >= 100 && code <= 599;
}

function formatBasisPoints(bp: i32): string {
  const whole = bp / 100;
  const rest = bp % 100;
  return whole.toString() + (rest == 0 ? "" : "." + (rest < 10 ? "0" : "") + rest.toString());
}

function parseTarget(r: ConfigReader, value: JsonValue, path: string, config: RoutingConfig, count: i32): Target {
  const t = new Target();
  if (!r.object(value, path, ["cluster", "headers", "weight"])) return t;
  const cluster = value.get("cluster");
  const headers = value.get("headers");
  if ((cluster === null) == (headers === null)) { r.fail(path, "unknown target: give either \"cluster\" or \"headers\""); return t; }
  if (cluster !== null) {
    if (!cluster.isString() || cluster.string.length == 0) { r.fail(path + ".cluster", "expected a cluster name"); return t; }
    if (config.clusters.length > 0 && !config.clusters.includes(cluster.string)) {
      r.fail(path + ".cluster", "unknown target cluster \"" + cluster.string + "\" (clusters: " + config.clusters.join(", ") + ")");
      return t;
    }
    t.cluster = cluster.string;
    t.label = cluster.string;
  } else if (r.object(headers!, path + ".headers", headers!.keys)) {
    if (headers!.keys.length == 0) { r.fail(path + ".headers", "must set at least one header"); return t; }
    const parts = new Array<string>();
    for (let i = 0; i < headers!.keys.length; i++) {
      const at = path + ".headers." + headers!.keys[i];
      const problem = headerNameProblem(headers!.keys[i]);
      if (problem.length > 0) { r.fail(at, problem); return t; }
      const v = headers!.items[i];
      if (!v.isString() || headerValueProblem(v.string).length > 0) { r.fail(at, "expected a header value"); return t; }
      t.headerNames.push(headers!.keys[i]);
      if (!config.ownedHeaders.includes(headers!.keys[i])) config.ownedHeaders.push(headers!.keys[i]);
      t.headerValues.push(v.string);
      parts.push(headers!.keys[i] + "=" + v.string);
    }
    t.label = parts.join(",");
  }
  const weight = value.get("weight");
  if (weight === null) {
    if (count > 1) r.fail(path + ".weight", "is required when a rule splits traffic");
    return t;
  }
  const w = r.number(value, "weight", path, 0, 100, 0);
  t.weight = <i32>Math.round(w * 100);
  return t;
}

function parseValueMatch(r: ConfigReader, value: JsonValue, path: string, named: bool): ValueMatch {
  const m = new ValueMatch();
  const allowed = named ? ["name", "invert"] : ["invert"];
  for (let i = 0; i < MATCH_KINDS.length; i++) allowed.push(MATCH_KINDS[i]);
  if (!r.object(value, path, allowed)) return m;
  if (named) {
    const name = r.string(value, "name", path);
    m.name = name === null ? "" : name;
  }
  m.invert = r.bool(value, "invert", path, false);
  for (let i = 0; i < value.keys.length; i++) {
    const key = value.keys[i];
    if (!MATCH_KINDS.includes(key)) continue;
    if (m.kind.length > 0) { r.fail(path, "give one of " + MATCH_KINDS.join(", ") + ", not both " + m.kind + " and " + key); return m; }
    m.kind = key;
    const v = value.items[i];
    if (key == "present" || key == "absent") {
      if (!v.isBool() || !v.bool) r.fail(path + "." + key, "expected true");
    } else if (!v.isString()) {
      r.fail(path + "." + key, "expected a string");
    } else {
      m.text = v.string;
      if (key == "regex") {
        // As Envoy's header matcher compiles safe_regex: Latin-1, one byte per character.
        const compiled = Regex.compile(v.string, RegexEncoding.Latin1);
        if (!compiled.ok) r.fail(path + ".regex", "invalid regex: " + compiled.error);
        m.regex = compiled.regex;
      }
    }
  }
  if (r.ok && m.kind.length == 0) r.fail(path, "needs one of " + MATCH_KINDS.join(", "));
  return m;
}

function parseMatch(r: ConfigReader, value: JsonValue, path: string): Match {
  const m = new Match();
  if (!r.object(value, path, ["headers", "cookies", "query_params", "path", "methods", "source_cidrs"])) return m;
  const lists = ["headers", "cookies", "query_params"];
  for (let l = 0; l < lists.length && r.ok; l++) {
    const list = value.get(lists[l]);
    if (list === null || !r.array(list, path + "." + lists[l])) continue;
    for (let i = 0; i < list.items.length && r.ok; i++) {
      const vm = parseValueMatch(r, list.items[i], path + "." + lists[l] + "[" + i.toString() + "]", true);
      if (l == 0) {
        const problem = headerNameProblem(vm.name);
        if (r.ok && problem.length > 0) r.fail(path + ".headers[" + i.toString() + "].name", problem);
        m.headers.push(vm);
      } else if (l == 1) m.cookies.push(vm);
      else m.queryParams.push(vm);
    }
  }
  const p = value.get("path");
  if (p !== null && r.ok) m.path = parseValueMatch(r, p, path + ".path", false);
  const methods = value.get("methods");
  if (methods !== null && r.array(methods, path + ".methods")) {
    for (let i = 0; i < methods.items.length; i++) {
      if (!methods.items[i].isString()) { r.fail(path + ".methods[" + i.toString() + "]", "expected a method such as \"GET\""); break; }
      m.methods.push(methods.items[i].string);
    }
  }
  const cidrs = value.get("source_cidrs");
  if (cidrs !== null && r.array(cidrs, path + ".source_cidrs")) {
    for (let i = 0; i < cidrs.items.length; i++) {
      const c = cidrs.items[i].isString() ? Cidr.parse(cidrs.items[i].string) : null;
      if (c === null) { r.fail(path + ".source_cidrs[" + i.toString() + "]", "is not a CIDR range such as \"10.0.0.0/8\""); break; }
      m.sourceCidrs.push(c);
    }
  }
  return m;
}

function parseFault(r: ConfigReader, value: JsonValue, path: string): Fault {
  const f = new Fault();
  if (!r.object(value, path, ["abort", "delay"])) return f;
  const abort = value.get("abort");
  if (abort !== null && r.object(abort, path + ".abort", ["percentage", "http_status", "grpc_status"])) {
    f.abortPercent = r.number(abort, "percentage", path + ".abort", 0, 100, 100);
    const http = abort.get("http_status");
    const grpc = abort.get("grpc_status");
    if ((http === null) == (grpc === null)) r.fail(path + ".abort", "give either http_status or grpc_status");
    else if (http !== null) f.abortStatus = <u32>r.integer(abort, "http_status", path + ".abort", 200, 599, 503);
    else { f.abortGrpcStatus = <i32>r.integer(abort, "grpc_status", path + ".abort", 0, 16, 14); f.abortStatus = 200; }
  }
  const delay = value.get("delay");
  if (delay !== null && r.object(delay, path + ".delay", ["percentage", "fixed_delay"])) {
    f.delayPercent = r.number(delay, "percentage", path + ".delay", 0, 100, 100);
    f.delayNs = r.duration(delay, "fixed_delay", path + ".delay");
  }
  return f;
}
