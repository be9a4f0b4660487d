// rate-quota: request quotas keyed by request dimensions, enforced across all worker VMs of one
// Envoy (local mode) or across a fleet through Envoy's rate limit service (global mode).
export * from "../../assembly/proxy";
import {
  Context, Counter, FilterHeadersStatusValues, GrpcCallHandler, GrpcStatusValues, HeaderPair, LogLevelValues, PeerMetadataCounters,
  RootContext, SharedSlotTable, WasmResultValues, continue_request, get_current_time_nanoseconds, log, logEnabled,
  registerRootContext, send_local_response, sharedSecret, stream_context, sharedKeyPrefix,
} from "../../assembly";
import { Quota, RateQuotaConfig, parseConfig } from "./config";
import { DimensionValues } from "./dimensions";
import { bucketTable } from "./store";
import { BucketState, Decision, take } from "./limits";
import { CODE_OVER_LIMIT, Descriptor, RLS_METHOD, RLS_SERVICE, decodeResponse, encodeRequest } from "./global";

const SEPARATOR = "\x1f";
/** The key every oversized key is counted under (no dimension value contains the separator alone). */
const TOO_LONG_KEY = "\x1f(too long)";

class QuotaMetrics {
  allowed: Counter;
  denied: Counter;
  shadowDenied: Counter;
  constructor(name: string) {
    this.allowed = new Counter("rate_quota." + name + ".allowed");
    this.denied = new Counter("rate_quota." + name + ".denied");
    this.shadowDenied = new Counter("rate_quota." + name + ".shadow_denied");
  }
}

class RateQuotaRoot extends RootContext {
  config: RateQuotaConfig = new RateQuotaConfig();
  tables: SharedSlotTable<BucketState>[] = [];
  metrics: QuotaMetrics[] = [];
  casExhausted: Counter | null = null;
  overflows: Counter | null = null;
  keysTooLong: Counter | null = null;
  serviceErrors: Counter | null = null;
  readonly peerCounters: PeerMetadataCounters = new PeerMetadataCounters("rate_quota");

  onConfigure(size: u32): bool {
    const parsed = parseConfig(this.getConfiguration());
    if (parsed.config === null) {
      log(LogLevelValues.error, parsed.error);
      return false;
    }
    const config = parsed.config!;
    const prefix = sharedKeyPrefix("rate-quota");
    const secret = sharedSecret(prefix + "secret");
    const tables = new Array<SharedSlotTable<BucketState>>();
    const metrics = new Array<QuotaMetrics>();
    for (let i = 0; i < config.quotas.length; i++) {
      const table = bucketTable(prefix + config.quotas[i].name + "|", config.maxKeys, secret);
      if (config.global === null) table.ensureCreated();
      tables.push(table);
      metrics.push(new QuotaMetrics(config.quotas[i].name));
    }
    this.casExhausted = new Counter("rate_quota.cas_exhausted");
    this.overflows = new Counter("rate_quota.overflow");
    this.keysTooLong = new Counter("rate_quota.key_too_long");
    this.serviceErrors = new Counter("rate_quota.rate_limit_service_errors");
    this.config = config;
    this.tables = tables;
    this.metrics = metrics;
    return true;
  }

  createContext(id: u32): Context { return new RateQuota(id, this); }
}

/** The limit and window for this key: the first override whose dimension values all match. */
function limitFor(quota: Quota, values: Array<string | null>): i64[] {
  for (let i = 0; i < quota.overrides.length; i++) {
    const o = quota.overrides[i];
    let matches = true;
    for (let j = 0; j < o.values.length && matches; j++) {
      const want = o.values[j];
      if (want !== null && values[j] != want) matches = false;
    }
    if (matches) return [o.limit, o.windowNs];
  }
  return [quota.limit, quota.windowNs];
}

function seconds(ns: i64): i64 { return (ns + 999_999_999) / 1_000_000_000; }

/** The x-ratelimit-* headers of a decision (the IETF draft's form, as Envoy emits it). */
function rateLimitHeaders(d: Decision, out: HeaderPair[], denied: bool): void {
  if (d.limit > 0) {
    out.push(HeaderPair.of("x-ratelimit-limit", d.limit.toString() + ", " + d.limit.toString() + ";w=" + seconds(d.windowNs).toString()));
    out.push(HeaderPair.of("x-ratelimit-remaining", d.remaining.toString()));
    out.push(HeaderPair.of("x-ratelimit-reset", seconds(d.resetNs).toString()));
  }
  if (denied) out.push(HeaderPair.of("retry-after", max<i64>(1, seconds(d.retryAfterNs)).toString()));
}

/** Keeps the decision closest to its limit: the one the client should hear about. */
function tighter(current: Decision | null, candidate: Decision): Decision {
  if (current === null) return candidate;
  if (candidate.allowed != current.allowed) return candidate.allowed ? current : candidate;
  return candidate.remaining < current.remaining ? candidate : current;
}

class RlsHandler extends GrpcCallHandler {
  response: ArrayBuffer | null = null;
  constructor(public stream: RateQuota, public quotas: i32[]) { super(stream); }
  onMessage(message: ArrayBuffer): void { this.response = message; }
  onClose(status: GrpcStatusValues, message: string): void { this.stream.onServiceAnswer(this, status, message); }
}

class RateQuota extends Context {
  private reported: Decision | null = null;
  private extraResponseHeaders: HeaderPair[] = [];

  private get quotaRoot(): RateQuotaRoot { return this.root_context as RateQuotaRoot; }

  onRequestHeaders(count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.quotaRoot;
    const config = root.config;
    const values = new DimensionValues(config, root.peerCounters);
    if (config.global !== null) return this.askService(values);

    const now = <i64>get_current_time_nanoseconds();
    let denying: Decision | null = null;
    for (let i = 0; i < config.quotas.length; i++) {
      const quota = config.quotas[i];
      const keyValues = this.keyValues(quota, values);
      if (keyValues === null) continue;
      const decision = this.takeLocal(i, quota, keyValues, now);
      const metrics = root.metrics[i];
      if (decision.allowed) metrics.allowed.increment(1);
      else if (quota.shadow) metrics.shadowDenied.increment(1);
      else metrics.denied.increment(1);
      // A shadow quota only counts: it neither denies nor shows in the client's headers.
      if (quota.shadow) continue;
      this.reported = tighter(this.reported, decision);
      if (!decision.allowed) denying = tighter(denying, decision);
    }
    if (denying !== null) {
      this.deny(denying, [], "local_rate_limited");
      return FilterHeadersStatusValues.StopIteration;
    }
    return FilterHeadersStatusValues.Continue;
  }

  /** The quota's dimension values, or null when one has no value (the quota then does not apply). */
  private keyValues(quota: Quota, values: DimensionValues): Array<string | null> | null {
    const out = new Array<string | null>();
    for (let i = 0; i < quota.dimensions.length; i++) {
      const v = values.get(quota.dimensions[i]);
      if (v === null) return null;
      out.push(v);
    }
    return out;
  }

  private takeLocal(index: i32, quota: Quota, keyValues: Array<string | null>, now: i64): Decision {
    const root = this.quotaRoot;
    const table = root.tables[index];
    const limit = limitFor(quota, keyValues);
    let key = keyValues.join(SEPARATOR);
    // Oversized keys are counted and share one bucket: their length cannot buy distinct keys.
    if (key.length > root.config.maxKeyLength) {
      root.keysTooLong!.increment(1);
      key = TOO_LONG_KEY;
    }
    const digest = table.digest(key);
    for (let attempt = 0; attempt < root.config.casRetries; attempt++) {
      const slot = table.find(digest, now);
      if (slot === null) break;
      const decision = take(slot.state, quota.algorithm, limit[0], limit[1], now);
      if (table.write(slot) == WasmResultValues.Ok) {
        if (slot.overflow) root.overflows!.increment(1);
        return decision;
      }
    }
    // Other workers kept winning the race for this key: decide without counting, as configured.
    root.casExhausted!.increment(1);
    log(LogLevelValues.warn, "quota " + quota.name + ": shared data contention, " +
      root.config.casRetries.toString() + " CAS retries exhausted; request " + (root.config.denyOnContention ? "denied" : "allowed"));
    const fallback = new Decision();
    fallback.allowed = !root.config.denyOnContention;
    fallback.limit = limit[0];
    fallback.windowNs = limit[1];
    fallback.resetNs = limit[1];
    fallback.retryAfterNs = limit[1];
    return fallback;
  }

  private deny(decision: Decision, serviceHeaders: HeaderPair[], details: string): void {
    const config = this.quotaRoot.config;
    const headers = new Array<HeaderPair>();
    for (let i = 0; i < config.denyHeaders.length; i++) headers.push(config.denyHeaders[i]);
    for (let i = 0; i < serviceHeaders.length; i++) headers.push(serviceHeaders[i]);
    rateLimitHeaders(decision, headers, true);
    this.reported = null;
    send_local_response(config.denyStatus, details, String.UTF8.encode(config.denyBody), headers, GrpcStatusValues.ResourceExhausted);
  }

  // ---- global mode ---------------------------------------------------------------------------

  private askService(values: DimensionValues): FilterHeadersStatusValues {
    const config = this.quotaRoot.config;
    const service = config.global!;
    const descriptors = new Array<Descriptor>();
    const quotas = new Array<i32>();
    for (let i = 0; i < config.quotas.length; i++) {
      const quota = config.quotas[i];
      const keyValues = this.keyValues(quota, values);
      if (keyValues === null) continue;
      const d = new Descriptor();
      d.keys.push("quota");
      d.values.push(quota.name);
      for (let j = 0; j < quota.dimensions.length; j++) {
        d.keys.push(config.dimensions[quota.dimensions[j]].name);
        d.values.push(keyValues[j]!);
      }
      descriptors.push(d);
      quotas.push(i);
    }
    if (descriptors.length == 0) return FilterHeadersStatusValues.Continue;
    const result = this.root_context.grpcCall(service.cluster, RLS_SERVICE, RLS_METHOD, [],
      encodeRequest(service.domain, descriptors), service.timeoutMs, new RlsHandler(this, quotas));
    if (result != WasmResultValues.Ok) {
      this.serviceFailed("cannot call the rate limit service on cluster " + service.cluster + ": result " + (<i32>result).toString(), false);
      return this.quotaRoot.config.global!.failureModeDeny ? FilterHeadersStatusValues.StopIteration : FilterHeadersStatusValues.Continue;
    }
    return FilterHeadersStatusValues.StopIteration;
  }

  /** The service could not answer: allow, or deny when failure_mode_deny is set. */
  private serviceFailed(reason: string, waiting: bool): void {
    const root = this.quotaRoot;
    root.serviceErrors!.increment(1);
    const deny = root.config.global!.failureModeDeny;
    log(LogLevelValues.warn, reason + "; request " + (deny ? "denied" : "allowed") + " (failure_mode_deny: " + (deny ? "true" : "false") + ")");
    if (deny) {
      send_local_response(root.config.global!.statusOnError, "rate_limit_service_error", new ArrayBuffer(0), [], GrpcStatusValues.Unavailable);
    } else if (waiting) {
      continue_request();
    }
  }

  onServiceAnswer(handler: RlsHandler, status: GrpcStatusValues, message: string): void {
    const root = this.quotaRoot;
    if (status != GrpcStatusValues.Ok || handler.response === null) {
      this.serviceFailed("rate limit service answered gRPC status " + (<i32>status).toString() + (message.length > 0 ? " (" + message + ")" : ""), true);
      return;
    }
    const reply = decodeResponse(handler.response!);
    if (!reply.valid) {
      this.serviceFailed("rate limit service sent a response that is not a RateLimitResponse", true);
      return;
    }
    let denying: Decision | null = null;
    for (let i = 0; i < handler.quotas.length; i++) {
      const quotaIndex = handler.quotas[i];
      const quota = root.config.quotas[quotaIndex];
      const decision = new Decision();
      const over = i < reply.statuses.length ? reply.statuses[i].code == CODE_OVER_LIMIT : reply.overallCode == CODE_OVER_LIMIT;
      if (i < reply.statuses.length && reply.statuses[i].limit >= 0) {
        const s = reply.statuses[i];
        decision.limit = s.limit;
        decision.windowNs = s.windowNs;
        decision.remaining = s.remaining;
        decision.resetNs = s.resetNs;
        decision.retryAfterNs = s.resetNs;
      }
      decision.allowed = !over;
      const metrics = root.metrics[quotaIndex];
      if (!over) metrics.allowed.increment(1);
      else if (quota.shadow) { metrics.shadowDenied.increment(1); decision.allowed = true; }
      else { metrics.denied.increment(1); denying = tighter(denying, decision); }
      if (decision.limit > 0 && !quota.shadow) this.reported = tighter(this.reported, decision);
    }
    // Without per-descriptor statuses each quota took the overall code above, so shadow quotas never deny.
    if (denying !== null) {
      this.deny(denying!, reply.responseHeaders, "request_rate_limited");
      return;
    }
    for (let i = 0; i < reply.requestHeaders.length; i++) {
      stream_context.headers.request.replace(reply.requestHeaders[i].keyString(), reply.requestHeaders[i].valueString());
    }
    this.extraResponseHeaders = reply.responseHeaders;
    if (logEnabled(LogLevelValues.debug)) log(LogLevelValues.debug, "rate limit service allowed the request");
    continue_request();
  }

  onResponseHeaders(count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    for (let i = 0; i < this.extraResponseHeaders.length; i++) {
      stream_context.headers.response.replace(this.extraResponseHeaders[i].keyString(), this.extraResponseHeaders[i].valueString());
    }
    const reported = this.reported;
    if (reported !== null && this.quotaRoot.config.responseHeaders) {
      const headers = new Array<HeaderPair>();
      rateLimitHeaders(reported, headers, false);
      for (let i = 0; i < headers.length; i++) stream_context.headers.response.replace(headers[i].keyString(), headers[i].valueString());
    }
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((id: u32): RootContext => new RateQuotaRoot(id), "rate-quota");
