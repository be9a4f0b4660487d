// header-routing: A/B tests, canary releases and fault injection that stock Envoy's router
// honours. The first matching rule picks a target (a cluster written to the header the route's
// cluster_header reads, or header values the route table matches), weighted and sticky if asked;
// then the filter clears the route cache so Envoy routes again.
export * from "../../assembly/proxy";
import {
  Context, Counter, FilterHeadersStatusValues, GrpcStatusValues, HeaderPairsView, LogLevelValues, RootContext,
  WasmResultValues, addressWithoutPort, clear_route_cache, continue_request, cookieValue, fnv1a, get_current_time_nanoseconds, getPropertyString,
  getSharedData, setSharedData,
  queryParameter, urlPathOf,
  log, registerRootContext, send_local_response, stream_context, sharedKeyPrefix,
} from "../../assembly";
import { Rule, RoutingConfig, Target, parseConfig } from "./config";

/** How often the root context looks for delayed streams that are due, while any wait. */
const DELAY_TICK_MS: u32 = 10;

class Delayed {
  constructor(public context: HeaderRouting, public dueNs: i64) {}
}

/** Tries of a contended CAS on the shared count of active faults. */
const CAS_ATTEMPTS: i32 = 16;

class RoutingRoot extends RootContext {
  config: RoutingConfig = new RoutingConfig();
  delayed: Delayed[] = [];
  private counters: Map<string, Counter> = new Map();
  /** Shared data key counting delays in progress across every worker VM (Envoy's active faults). */
  private activeKey: string = "";

  onConfigure(size: u32): bool {
    const parsed = parseConfig(this.getConfiguration());
    if (parsed.config === null) {
      log(LogLevelValues.error, parsed.error);
      return false;
    }
    this.config = parsed.config!;
    this.activeKey = sharedKeyPrefix("header-routing") + "active_faults";
    return true;
  }

  /**
   * Takes one of max_active_faults places, as Envoy's fault filter limits concurrent faults: a
   * client cannot hold an unbounded number of requests open by asking for delays.
   */
  acquireFault(): bool { return this.changeActive(1); }

  releaseFault(): void { this.changeActive(-1); }

  private changeActive(delta: i32): bool {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const current = getSharedData(this.activeKey);
      const n = current.value === null || current.value!.byteLength != 4 ? 0 : load<i32>(changetype<usize>(current.value!));
      if (delta > 0 && n >= this.config.maxActiveFaults) return false;
      const next = new ArrayBuffer(4);
      store<i32>(changetype<usize>(next), max<i32>(0, n + delta));
      if (setSharedData(this.activeKey, next, current.cas) == WasmResultValues.Ok) return true;
    }
    return false;
  }

  count(name: string): void {
    const full = "header_routing." + name;
    if (!this.counters.has(full)) this.counters.set(full, new Counter(full));
    this.counters.get(full).increment(1);
  }

  delay(context: HeaderRouting, ns: i64): void {
    if (this.delayed.length == 0) this.setTickPeriod(DELAY_TICK_MS);
    this.delayed.push(new Delayed(context, <i64>get_current_time_nanoseconds() + ns));
  }

  /** Drops a stream that ended while delayed, and gives its fault's place back. */
  forget(context: HeaderRouting): void {
    for (let i = 0; i < this.delayed.length; i++) {
      if (this.delayed[i].context === context) {
        this.delayed.splice(i, 1);
        this.releaseFault();
        // The timer stops with the last delayed stream (a stream that was never delayed costs no host call).
        if (this.delayed.length == 0) this.setTickPeriod(0);
        return;
      }
    }
  }

  onTick(): void {
    const now = <i64>get_current_time_nanoseconds();
    const due = new Array<HeaderRouting>();
    const waiting = new Array<Delayed>();
    for (let i = 0; i < this.delayed.length; i++) {
      if (this.delayed[i].dueNs <= now) due.push(this.delayed[i].context);
      else waiting.push(this.delayed[i]);
    }
    this.delayed = waiting;
    if (waiting.length == 0) this.setTickPeriod(0);
    for (let i = 0; i < due.length; i++) {
      this.releaseFault();
      due[i].setEffectiveContext();
      due[i].afterDelay();
    }
  }

  createContext(id: u32): Context { return new HeaderRouting(id, this); }
}

function cookie(headers: HeaderPairsView, name: string): string | null {
  const header = headers.get("cookie");
  return header === null ? null : cookieValue(header, name);
}

/** Whether the request (its headers fetched once, in one host call) satisfies the rule's match. */
function matches(rule: Rule, headers: HeaderPairsView): bool {
  const m = rule.match;
  for (let i = 0; i < m.headers.length; i++) {
    if (!m.headers[i].test(headers.get(m.headers[i].name))) return false;
  }
  for (let i = 0; i < m.cookies.length; i++) if (!m.cookies[i].test(cookie(headers, m.cookies[i].name))) return false;
  if (m.queryParams.length > 0 || m.path !== null) {
    const fullPath = headers.get(":path");
    const path = fullPath === null ? "" : fullPath;
    for (let i = 0; i < m.queryParams.length; i++) if (!m.queryParams[i].test(queryParameter(path, m.queryParams[i].name))) return false;
    if (m.path !== null && !m.path!.test(urlPathOf(path))) return false;
  }
  if (m.methods.length > 0) {
    const method = headers.get(":method");
    if (method === null || !m.methods.includes(method)) return false;
  }
  if (m.sourceCidrs.length > 0) {
    const source = getPropertyString(["source", "address"]);
    if (source === null) return false;
    const address = addressWithoutPort(source);
    let inside = false;
    for (let i = 0; i < m.sourceCidrs.length && !inside; i++) inside = m.sourceCidrs[i].contains(address);
    if (!inside) return false;
  }
  return true;
}

/** A point in [0, 10000): from the sticky key's hash when the request has one, else random. */
function bucket(rule: Rule, headers: HeaderPairsView): i32 {
  if (rule.stickyKind.length > 0) {
    const key = rule.stickyKind == "header" ? headers.get(rule.stickyName) : cookie(headers, rule.stickyName);
    if (key !== null) return <i32>(fnv1a(key) % 10000);
  }
  return <i32>Math.floor(Math.random() * 10000);
}

function chooseTarget(rule: Rule, headers: HeaderPairsView): Target {
  if (rule.targets.length == 1) return rule.targets[0];
  const point = bucket(rule, headers);
  let edge: i32 = 0;
  for (let i = 0; i < rule.targets.length; i++) {
    edge += rule.targets[i].weight;
    if (point < edge) return rule.targets[i];
  }
  return rule.targets[rule.targets.length - 1];
}

/** The rule's timeout and retries, in the request headers Envoy's router reads from its filters. */
function applyRouterPolicy(rule: Rule): void {
  const request = stream_context.headers.request;
  if (rule.timeoutMs > 0) request.replace("x-envoy-upstream-rq-timeout-ms", rule.timeoutMs.toString());
  const retries = rule.retries;
  if (retries === null) return;
  request.replace("x-envoy-max-retries", retries.attempts.toString());
  if (retries.httpOn.length > 0) request.replace("x-envoy-retry-on", retries.httpOn);
  if (retries.grpcOn.length > 0) request.replace("x-envoy-retry-grpc-on", retries.grpcOn);
  if (retries.statusCodes.length > 0) request.replace("x-envoy-retriable-status-codes", retries.statusCodes);
  if (retries.perTryTimeoutMs > 0) request.replace("x-envoy-upstream-rq-per-try-timeout-ms", retries.perTryTimeoutMs.toString());
}

function chance(percent: f64): bool {
  return percent >= 100 || (percent > 0 && Math.random() * 100 < percent);
}

class HeaderRouting extends Context {
  private decision: string = "";
  private rule: Rule | null = null;

  private get routingRoot(): RoutingRoot { return this.root_context as RoutingRoot; }

  onRequestHeaders(count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.routingRoot;
    const config = root.config;
    const headers = stream_context.headers.request.pairs();
    let rule: Rule | null = null;
    for (let i = 0; i < config.rules.length; i++) {
      if (matches(config.rules[i], headers)) { rule = config.rules[i]; break; }
    }
    // The filter owns the headers its targets set: a client must not pick a cluster or version itself.
    let removed = false;
    for (let i = 0; i < config.ownedHeaders.length; i++) {
      if (headers.get(config.ownedHeaders[i]) === null) continue;
      stream_context.headers.request.remove(config.ownedHeaders[i]);
      removed = true;
    }
    if (rule === null) {
      // A route chosen from the removed headers must not stand.
      if (removed) clear_route_cache();
      root.count("no_match");
      return FilterHeadersStatusValues.Continue;
    }
    this.rule = rule;
    const target = chooseTarget(rule, headers);
    if (target.cluster.length > 0) {
      stream_context.headers.request.replace(config.clusterHeader, target.cluster);
    } else {
      for (let i = 0; i < target.headerNames.length; i++) stream_context.headers.request.replace(target.headerNames[i], target.headerValues[i]);
    }
    applyRouterPolicy(rule);
    // The router chose its route before this filter ran: ask it to choose again.
    clear_route_cache();
    root.count(rule.name + "." + target.label + ".routed");
    this.decision = "rule=" + rule.name + ";target=" + target.label;
    // As in Envoy's fault filter, a delay comes first and the abort is decided after it.
    const fault = rule.fault;
    if (fault !== null && fault.delayNs > 0 && chance(fault.delayPercent)) {
      if (!root.acquireFault()) {
        // As Envoy's fault filter: past the limit no fault is injected, and that is counted.
        root.count("faults_overflow");
        return FilterHeadersStatusValues.Continue;
      }
      root.count(rule.name + ".delayed");
      root.delay(this, fault.delayNs);
      return FilterHeadersStatusValues.StopIteration;
    }
    return this.maybeAbort() ? FilterHeadersStatusValues.StopIteration : FilterHeadersStatusValues.Continue;
  }

  /** Called by the root when this stream's delay is over. */
  afterDelay(): void {
    if (!this.maybeAbort()) continue_request();
  }

  private maybeAbort(): bool {
    const rule = this.rule!;
    const fault = rule.fault;
    if (fault === null || fault.abortStatus <= 0 || !chance(fault.abortPercent)) return false;
    this.routingRoot.count(rule.name + ".aborted");
    this.decision = "rule=" + rule.name + ";fault=abort";
    send_local_response(fault.abortStatus, "fault_filter_abort", String.UTF8.encode("fault filter abort"), [],
      fault.abortGrpcStatus >= 0 ? <GrpcStatusValues>fault.abortGrpcStatus : GrpcStatusValues.InvalidCode);
    return true;
  }

  onResponseHeaders(count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const echo = this.routingRoot.config.echoHeader;
    if (echo.length > 0 && this.decision.length > 0) stream_context.headers.response.replace(echo, this.decision);
    return FilterHeadersStatusValues.Continue;
  }

  onDelete(): void {
    this.routingRoot.forget(this);
  }
}

registerRootContext((id: u32): RootContext => new RoutingRoot(id), "header-routing");
