// The circuit-breaker configuration: what a circuit is keyed by, what counts as a failure, when
// it trips, how long it stays open, how it probes, and what clients get meanwhile. Checked once
// at configure; every error names its field.
import { ConfigReader, HeaderPair, JsonValue, headerNameProblem, headerValueProblem } from "../../assembly";

export const enum KeySource { Cluster, Route, Header, PathPrefix }

export class KeyConfig {
  source: KeySource = KeySource.Cluster;
  /** Header: the header holding the key. Cluster: the header a re-routing filter writes the cluster to ("" for none). */
  header: string = "";
  /** PathPrefix: how many leading path segments make the key. */
  segments: i32 = 1;
}

export class FailureConfig {
  /** Any 5xx the upstream (or Envoy on its behalf) answered. */
  http5xx: bool = true;
  /** More statuses that count, e.g. 429. */
  statuses: i32[] = [];
  /** Resets, refused connections, timeouts, overflow, no healthy upstream (Envoy's response flags). */
  upstreamErrors: bool = true;
  /** A local reply from another filter with a failing status. */
  localReplies: bool = false;
}

export const enum FallbackKind { Reject, LocalResponse, Cluster }

export class FallbackConfig {
  kind: FallbackKind = FallbackKind.Reject;
  status: u32 = 503;
  headers: HeaderPair[] = [];
  body: string = "circuit open\n";
  cluster: string = "";
  clusterHeader: string = "x-route-cluster";
}

export class CircuitConfig {
  key: KeyConfig = new KeyConfig();
  failures: FailureConfig = new FailureConfig();
  /** 0: the rule is off. */
  consecutiveFailures: i32 = 0;
  failureRatio: f64 = 0;
  windowNs: i64 = 10_000_000_000;
  minRequests: i32 = 20;
  openNs: i64 = 5_000_000_000;
  maxOpenNs: i64 = 300_000_000_000;
  maxProbes: i32 = 1;
  successesToClose: i32 = 2;
  fallback: FallbackConfig = new FallbackConfig();
  /** Circuits tracked at once (and per-key metric names); more keys pass untracked. */
  maxKeys: i32 = 100;
  /** Response header telling the client the circuit's state when it was not closed ("" for none). */
  stateHeader: string = "x-circuit-state";
}

export class ParsedConfig {
  constructor(public config: CircuitConfig | null, public error: string) {}
}

const TOP_FIELDS = ["key", "failures", "trip", "open", "half_open", "fallback", "max_keys", "state_header"];
const KEY_SOURCES = ["cluster", "route", "header", "path_prefix"];

export function parseConfig(text: string): ParsedConfig {
  const r = new ConfigReader();
  const root = r.parse(text);
  if (root === null || !r.object(root, "", TOP_FIELDS)) return new ParsedConfig(null, r.error);
  const config = new CircuitConfig();
  const key = root.get("key");
  if (key !== null) parseKey(r, key, config.key);
  const failures = root.get("failures");
  if (failures !== null) parseFailures(r, failures, config.failures);
  const trip = root.get("trip");
  if (trip === null) config.consecutiveFailures = 5;
  else parseTrip(r, trip, config);
  const open = root.get("open");
  if (open !== null && r.object(open, "open", ["duration", "max_duration"])) {
    config.openNs = r.duration(open, "duration", "open", config.openNs);
    config.maxOpenNs = r.duration(open, "max_duration", "open", max<i64>(config.maxOpenNs, config.openNs));
    if (r.ok && config.maxOpenNs < config.openNs) r.fail("open.max_duration", "must not be shorter than open.duration");
  }
  const halfOpen = root.get("half_open");
  if (halfOpen !== null && r.object(halfOpen, "half_open", ["max_probes", "successes_to_close"])) {
    config.maxProbes = <i32>r.integer(halfOpen, "max_probes", "half_open", 1, 1000, 1);
    config.successesToClose = <i32>r.integer(halfOpen, "successes_to_close", "half_open", 1, 1000, 2);
  }
  const fallback = root.get("fallback");
  if (fallback !== null) parseFallback(r, fallback, config.fallback);
  config.maxKeys = <i32>r.integer(root, "max_keys", "", 1, 10_000, 100);
  const stateHeader = r.string(root, "state_header", "", config.stateHeader);
  if (stateHeader !== null) {
    if (stateHeader.length > 0 && headerNameProblem(stateHeader).length > 0) r.fail("state_header", headerNameProblem(stateHeader));
    config.stateHeader = stateHeader;
  }
  return r.ok ? new ParsedConfig(config, "") : new ParsedConfig(null, r.error);
}

function headerField(r: ConfigReader, value: JsonValue, key: string, path: string, fallback: string | null): string {
  const name = r.string(value, key, path, fallback);
  if (name === null) return "";
  if (name.length > 0 || fallback === null) {
    const problem = headerNameProblem(name);
    if (problem.length > 0) r.fail(path + "." + key, problem);
  }
  return name;
}

function parseKey(r: ConfigReader, value: JsonValue, key: KeyConfig): void {
  if (!r.object(value, "key", ["source", "header", "segments"])) return;
  const source = r.choice(value, "source", "key", KEY_SOURCES, "cluster");
  key.source = <KeySource>KEY_SOURCES.indexOf(source);
  const header = value.get("header");
  const segments = value.get("segments");
  if (key.source == KeySource.Header) key.header = headerField(r, value, "header", "key", null);
  else if (key.source == KeySource.Cluster) key.header = headerField(r, value, "header", "key", "");
  else if (header !== null) r.fail("key.header", "applies only to the cluster and header sources");
  if (key.source == KeySource.PathPrefix) key.segments = <i32>r.integer(value, "segments", "key", 1, 16, 1);
  else if (segments !== null) r.fail("key.segments", "applies only to the path_prefix source");
}

function parseFailures(r: ConfigReader, value: JsonValue, f: FailureConfig): void {
  if (!r.object(value, "failures", ["http_5xx", "statuses", "upstream_errors", "local_replies"])) return;
  f.http5xx = r.bool(value, "http_5xx", "failures", true);
  f.upstreamErrors = r.bool(value, "upstream_errors", "failures", true);
  f.localReplies = r.bool(value, "local_replies", "failures", false);
  const statuses = value.get("statuses");
  if (statuses !== null && r.array(statuses, "failures.statuses")) {
    for (let i = 0; i < statuses.items.length; i++) {
      const s = statuses.items[i];
      if (!s.isInteger() || s.number < 100 || s.number > 599) { r.fail("failures.statuses[" + i.toString() + "]", "expected an HTTP status from 100 to 599"); return; }
      f.statuses.push(<i32>s.number);
    }
  }
  if (r.ok && !f.http5xx && !f.upstreamErrors && !f.localReplies && f.statuses.length == 0) r.fail("failures", "counts nothing as a failure: the circuit could never trip");
}

function parseTrip(r: ConfigReader, value: JsonValue, config: CircuitConfig): void {
  if (!r.object(value, "trip", ["consecutive_failures", "failure_ratio", "window", "min_requests"])) return;
  config.consecutiveFailures = <i32>r.integer(value, "consecutive_failures", "trip", 1, 1_000_000, 0);
  config.failureRatio = r.number(value, "failure_ratio", "trip", 0, 1, 0);
  if (r.ok && value.get("failure_ratio") !== null && config.failureRatio <= 0) r.fail("trip.failure_ratio", "must be above 0");
  config.windowNs = r.duration(value, "window", "trip", config.windowNs);
  config.minRequests = <i32>r.integer(value, "min_requests", "trip", 1, 1_000_000, 20);
  if (r.ok && config.windowNs < 1_000_000) r.fail("trip.window", "must be at least 1ms");
  if (r.ok && config.consecutiveFailures == 0 && config.failureRatio == 0) r.fail("trip", "give consecutive_failures, failure_ratio or both");
}

function parseFallback(r: ConfigReader, value: JsonValue, f: FallbackConfig): void {
  if (!r.object(value, "fallback", ["local_response", "cluster", "cluster_header"])) return;
  const local = value.get("local_response");
  const cluster = value.get("cluster");
  if (local !== null && cluster !== null) { r.fail("fallback", "give either local_response or cluster, not both"); return; }
  if (local !== null) {
    f.kind = FallbackKind.LocalResponse;
    if (!r.object(local, "fallback.local_response", ["status", "headers", "body"])) return;
    f.status = <u32>r.integer(local, "status", "fallback.local_response", 200, 599, 503);
    const body = r.string(local, "body", "fallback.local_response", "");
    f.body = body === null ? "" : body;
    const headers = local.get("headers");
    if (headers !== null && r.object(headers, "fallback.local_response.headers", headers.keys)) {
      for (let i = 0; i < headers.keys.length; i++) {
        const at = "fallback.local_response.headers." + headers.keys[i];
        const problem = headerNameProblem(headers.keys[i]);
        if (problem.length > 0) { r.fail(at, problem); return; }
        const v = headers.items[i];
        if (!v.isString() || headerValueProblem(v.string).length > 0) { r.fail(at, "expected a header value"); return; }
        f.headers.push(HeaderPair.of(headers.keys[i], v.string));
      }
    }
  } else if (cluster !== null) {
    f.kind = FallbackKind.Cluster;
    if (!cluster.isString() || cluster.string.length == 0) { r.fail("fallback.cluster", "expected a cluster name"); return; }
    f.cluster = cluster.string;
  }
  const clusterHeader = value.get("cluster_header");
  if (clusterHeader !== null) {
    if (f.kind != FallbackKind.Cluster) { r.fail("fallback.cluster_header", "applies only with fallback.cluster"); return; }
    f.clusterHeader = headerField(r, value, "cluster_header", "fallback", null);
  }
}
