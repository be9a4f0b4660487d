// circuit-breaker: per key (the upstream cluster, the route, a header or a path prefix), a
// closed → open → half-open circuit shared by every worker VM. While a circuit is open its
// requests never reach the upstream: they get the configured fallback (a local response, a
// fallback cluster, or 503) and the client is told the circuit's state.
export * from "../../assembly/proxy";
import {
  Context, Counter, FilterHeadersStatusValues, Gauge, HeaderPair, LogLevelValues, RootContext, SharedSlotTable,
  WasmResultValues, clear_route_cache, get_current_time_nanoseconds, getPropertyInt64, getPropertyString, log,
  registerRootContext, send_local_response, sharedSecret, stream_context, urlPathOf, formatDuration, sharedKeyPrefix, metricLabelValue,
} from "../../assembly";
import { Admission, Circuit, Outcome, STATE_NAMES, State, admit, openDuration, record } from "./circuit";
import { CircuitConfig, FallbackKind, KeySource, parseConfig } from "./config";
import { circuitTable } from "./store";

/** Tries of a contended CAS on a circuit before the request passes without it. */
const CAS_ATTEMPTS: i32 = 16;
/** Keys longer than this pass untracked: their length cannot buy distinct circuits. */
const MAX_KEY_LENGTH: i32 = 256;
/** Digests remembered per VM (keys recur: one HMAC per key, not per request). */
const DIGEST_CACHE: i32 = 256;

/** Envoy's response flags for an upstream that failed: UH, UT, UR, UF, UC, UO. */
const UPSTREAM_ERROR_FLAGS: i64 = 0x2 | 0x4 | 0x10 | 0x20 | 0x40 | 0x80;
/** DC: the client went away, which says nothing about the upstream. */
const DOWNSTREAM_TERMINATED: i64 = 0x4000;

/** A metric name carrying the key as a label (`circuit=.=<key>;.;`), which stats_tags extract. */
function metricName(key: string, what: string): string {
  return "circuit_breaker.circuit=.=" + key + ";.;" + what;
}

class KeyMetrics {
  state: Gauge;
  trips: Counter;
  shortCircuited: Counter;
  probes: Counter;
  fallbacks: Counter;
  constructor(key: string) {
    this.state = new Gauge(metricName(key, "state"));
    this.trips = new Counter(metricName(key, "trips"));
    this.shortCircuited = new Counter(metricName(key, "short_circuited"));
    this.probes = new Counter(metricName(key, "probes"));
    this.fallbacks = new Counter(metricName(key, "fallbacks"));
  }
}

class BreakerRoot extends RootContext {
  config: CircuitConfig = new CircuitConfig();
  table: SharedSlotTable<Circuit> | null = null;
  private metrics: Map<string, KeyMetrics> = new Map();
  private digests: Map<string, Uint8Array> = new Map();
  untracked: Counter | null = null;
  casExhausted: Counter | null = null;

  onConfigure(size: u32): bool {
    const parsed = parseConfig(this.getConfiguration());
    if (parsed.config === null) {
      log(LogLevelValues.error, parsed.error);
      return false;
    }
    const config = parsed.config!;
    const prefix = sharedKeyPrefix("circuit-breaker");
    const table = circuitTable(prefix, config, sharedSecret(prefix + "secret"));
    table.ensureCreated();
    this.untracked = new Counter("circuit_breaker.untracked");
    this.casExhausted = new Counter("circuit_breaker.cas_exhausted");
    this.config = config;
    this.table = table;
    this.metrics = new Map();
    this.digests = new Map();
    return true;
  }

  /** A key's metrics; past max_keys names, keys share the "other" series (names are never freed). */
  metricsFor(key: string): KeyMetrics {
    const name = this.metrics.has(key) || this.metrics.size < this.config.maxKeys ? key : "other";
    if (!this.metrics.has(name)) this.metrics.set(name, new KeyMetrics(metricLabelValue(name)));
    return this.metrics.get(name);
  }

  digestOf(key: string): Uint8Array {
    if (this.digests.has(key)) return this.digests.get(key);
    if (this.digests.size >= DIGEST_CACHE) this.digests.clear();
    const digest = this.table!.digest(key);
    this.digests.set(key, digest);
    return digest;
  }

  /**
   * Admits a request to `key`'s circuit. A closed circuit is only read; a decision that changes
   * the circuit (open → half-open, taking a probe place) is written with CAS.
   */
  admit(key: string, now: i64): Admission {
    const digest = this.digestOf(key);
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const slot = this.table!.find(digest, now);
      if (slot === null) { this.untracked!.increment(1); return Admission.Pass; }
      const before = slot.state.state;
      const admission = admit(slot.state, this.config, now);
      if (admission == Admission.Pass && before == State.Closed) return admission;
      if (admission == Admission.ShortCircuit && before == slot.state.state) return admission;
      if (this.table!.write(slot) == WasmResultValues.Ok) {
        this.transition(key, before, slot.state);
        return admission;
      }
    }
    this.casExhausted!.increment(1);
    return Admission.Pass;
  }

  /** Records how an admitted request to `key` ended, moving its circuit if that trips or closes it. */
  report(key: string, admission: Admission, outcome: Outcome, now: i64): void {
    const digest = this.digestOf(key);
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const slot = this.table!.find(digest, now);
      if (slot === null) return;
      const before = slot.state.state;
      record(slot.state, this.config, admission, outcome, now);
      if (this.table!.write(slot) == WasmResultValues.Ok) {
        this.transition(key, before, slot.state);
        return;
      }
    }
    this.casExhausted!.increment(1);
  }

  private transition(key: string, from: State, c: Circuit): void {
    if (from == c.state) return;
    const metrics = this.metricsFor(key);
    metrics.state.record(<u64>c.state);
    let detail = "";
    if (c.state == State.Open) {
      metrics.trips.increment(1);
      detail = " for " + formatDuration(openDuration(this.config, c.trips)) + " (trip " + c.trips.toString() + ")";
    }
    log(LogLevelValues.info, "circuit " + metricLabelValue(key) + ": " + STATE_NAMES[from] + " -> " + STATE_NAMES[c.state] + detail);
  }

  createContext(id: u32): Context { return new Breaker(id, this); }
}

/** The first `segments` segments of the path (without its query): "/api/v1" for 2 of "/api/v1/items?x". */
function pathPrefix(path: string, segments: i32): string {
  const bare = urlPathOf(path);
  let seen = 0;
  for (let i = 1; i < bare.length; i++) {
    if (bare.charCodeAt(i) == 47 && ++seen == segments) return bare.substring(0, i);
  }
  return bare;
}

class Breaker extends Context {
  private key: string | null = null;
  private admission: Admission = Admission.Pass;
  /** The state told to the client ("" when the circuit was closed). */
  private told: string = "";

  private get breaker(): BreakerRoot { return this.root_context as BreakerRoot; }

  private keyOf(): string | null {
    const k = this.breaker.config.key;
    const request = stream_context.headers.request;
    if (k.source == KeySource.Header) return request.getOrNull(k.header);
    if (k.source == KeySource.PathPrefix) return pathPrefix(request.get(":path"), k.segments);
    if (k.source == KeySource.Route) return getPropertyString(["xds", "route_name"]);
    // After a filter re-routed, Envoy still reports the old cluster: its header names the new one.
    if (k.header.length > 0) {
      const written = request.getOrNull(k.header);
      if (written !== null) return written;
    }
    return getPropertyString(["xds", "cluster_name"]);
  }

  onRequestHeaders(count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.breaker;
    const key = this.keyOf();
    if (key === null || key.length == 0) return FilterHeadersStatusValues.Continue;
    if (key.length > MAX_KEY_LENGTH) { root.untracked!.increment(1); return FilterHeadersStatusValues.Continue; }
    this.key = key;
    this.admission = root.admit(key, <i64>get_current_time_nanoseconds());
    if (this.admission == Admission.Probe) {
      root.metricsFor(key).probes.increment(1);
      this.told = "half-open";
      return FilterHeadersStatusValues.Continue;
    }
    if (this.admission == Admission.Pass) return FilterHeadersStatusValues.Continue;
    return this.shortCircuit(root, key);
  }

  private shortCircuit(root: BreakerRoot, key: string): FilterHeadersStatusValues {
    const metrics = root.metricsFor(key);
    metrics.shortCircuited.increment(1);
    const fallback = root.config.fallback;
    this.told = "open";
    if (fallback.kind == FallbackKind.Cluster) {
      metrics.fallbacks.increment(1);
      stream_context.headers.request.replace(fallback.clusterHeader, fallback.cluster);
      clear_route_cache();
      return FilterHeadersStatusValues.Continue;
    }
    const headers = new Array<HeaderPair>();
    for (let i = 0; i < fallback.headers.length; i++) headers.push(fallback.headers[i]);
    if (root.config.stateHeader.length > 0) headers.push(HeaderPair.of(root.config.stateHeader, "open"));
    if (fallback.kind == FallbackKind.LocalResponse) metrics.fallbacks.increment(1);
    send_local_response(fallback.status, "circuit_breaker_open", String.UTF8.encode(fallback.body), headers);
    return FilterHeadersStatusValues.StopIteration;
  }

  onResponseHeaders(count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const header = this.breaker.config.stateHeader;
    if (this.told.length > 0 && header.length > 0) stream_context.headers.response.replace(header, this.told);
    return FilterHeadersStatusValues.Continue;
  }

  onLog(): void {
    const key = this.key;
    if (key === null || this.admission == Admission.ShortCircuit) return;
    const flags = getPropertyInt64(["response", "flags"], 0);
    const code = getPropertyInt64(["response", "code"], 0);
    // A client that went away before an answer says nothing about the upstream (a probe's place is still given back).
    const outcome = (flags & DOWNSTREAM_TERMINATED) != 0 && code == 0 ? Outcome.Unknown : this.failed(code, flags) ? Outcome.Failure : Outcome.Success;
    if (outcome == Outcome.Unknown && this.admission != Admission.Probe) return;
    this.breaker.report(key, this.admission, outcome, <i64>get_current_time_nanoseconds());
  }

  /** Whether the request's outcome counts against the upstream, as the configuration defines failure. */
  private failed(code: i64, flags: i64): bool {
    const f = this.breaker.config.failures;
    const upstreamError = (flags & UPSTREAM_ERROR_FLAGS) != 0;
    if (f.upstreamErrors && upstreamError) return true;
    const details = getPropertyString(["response", "code_details"]);
    const fromUpstream = details !== null && details == "via_upstream";
    // Envoy's own 503/504 for an upstream it could not use speak for the upstream; other local replies do not.
    if (!fromUpstream && !upstreamError && !f.localReplies) return false;
    return (f.http5xx && code >= 500 && code <= 599) || f.statuses.includes(<i32>code);
  }
}

registerRootContext((id: u32): RootContext => new BreakerRoot(id), "circuit-breaker");
