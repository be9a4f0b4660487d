// One circuit's state machine, without I/O: closed → open on too many failures, open → half-open
// when its time is up, half-open → closed after enough successful probes or back to open on one
// failure. The caller reads the state from shared data, applies one of these steps and writes
// it back with CAS, so every worker VM sees one circuit.
import { CircuitConfig } from "./config";

export const enum State { Closed = 0, Open = 1, HalfOpen = 2 }

export const STATE_NAMES = ["closed", "open", "half-open"];

/** Buckets of the rolling failure window: each holds a tenth of it. */
export const BUCKETS: i32 = 10;

export class Circuit {
  state: State = State.Closed;
  /** Trips since the circuit last closed: each doubles the open time (capped). */
  trips: i32 = 0;
  probesInFlight: i32 = 0;
  probeSuccesses: i32 = 0;
  consecutiveFailures: i32 = 0;
  /** Open: when probing may start. Half-open: when probes still out are taken as lost. */
  openUntil: i64 = 0;
  lastSeen: i64 = 0;
  /** Index (time / bucket width) of the newest bucket. */
  newestBucket: i64 = 0;
  requests: StaticArray<i32> = new StaticArray<i32>(BUCKETS);
  failures: StaticArray<i32> = new StaticArray<i32>(BUCKETS);
}

/** What a request may do. */
export const enum Admission { Pass, Probe, ShortCircuit }

/**
 * Decides a request's admission at `now`, changing the circuit when the decision takes a place:
 * an open circuit whose time is up becomes half-open and admits this request as a probe.
 */
export function admit(c: Circuit, config: CircuitConfig, now: i64): Admission {
  c.lastSeen = now;
  if (c.state == State.Closed) return Admission.Pass;
  if (c.state == State.Open) {
    if (now < c.openUntil) return Admission.ShortCircuit;
    c.state = State.HalfOpen;
    c.probesInFlight = 0;
    c.probeSuccesses = 0;
    c.openUntil = now + openDuration(config, c.trips);
  }
  // Probes still out after another open period are taken as lost (their stream never logged).
  if (c.probesInFlight >= config.maxProbes && now >= c.openUntil) {
    c.probesInFlight = 0;
    c.openUntil = now + openDuration(config, c.trips);
  }
  if (c.probesInFlight >= config.maxProbes) return Admission.ShortCircuit;
  c.probesInFlight++;
  return Admission.Probe;
}

/** How an admitted request ended, as far as the upstream's health goes. */
export const enum Outcome { Success, Failure, Unknown }

/** Records how an admitted request ended (Unknown: the client went away; only its probe place is given back). */
export function record(c: Circuit, config: CircuitConfig, admission: Admission, outcome: Outcome, now: i64): void {
  c.lastSeen = now;
  const failed = outcome == Outcome.Failure;
  if (admission == Admission.Probe) {
    if (c.probesInFlight > 0) c.probesInFlight--;
    // A probe that outlived its half-open period (the circuit re-opened or closed meanwhile) says nothing new.
    if (c.state != State.HalfOpen || outcome == Outcome.Unknown) return;
    if (failed) { open(c, config, now); return; }
    c.probeSuccesses++;
    if (c.probeSuccesses >= config.successesToClose) close(c, now, config);
    return;
  }
  // Requests admitted before the circuit opened do not move it further.
  if (c.state != State.Closed || outcome == Outcome.Unknown) return;
  slide(c, config, now);
  const at = <i32>(c.newestBucket % BUCKETS);
  c.requests[at]++;
  if (failed) { c.failures[at]++; c.consecutiveFailures++; } else c.consecutiveFailures = 0;
  if (shouldTrip(c, config)) open(c, config, now);
}

function shouldTrip(c: Circuit, config: CircuitConfig): bool {
  if (config.consecutiveFailures > 0 && c.consecutiveFailures >= config.consecutiveFailures) return true;
  if (config.failureRatio <= 0) return false;
  let requests = 0;
  let failures = 0;
  for (let i = 0; i < BUCKETS; i++) { requests += c.requests[i]; failures += c.failures[i]; }
  return requests >= config.minRequests && <f64>failures >= config.failureRatio * <f64>requests;
}

/** Moves the window to `now`, emptying the buckets that fell out of it. */
function slide(c: Circuit, config: CircuitConfig, now: i64): void {
  const width = max<i64>(1, config.windowNs / BUCKETS);
  const current = now / width;
  if (current <= c.newestBucket) return;
  const stale = min<i64>(current - c.newestBucket, BUCKETS);
  for (let i: i64 = 1; i <= stale; i++) {
    const at = <i32>((c.newestBucket + i) % BUCKETS);
    c.requests[at] = 0;
    c.failures[at] = 0;
  }
  c.newestBucket = current;
}

/** The open time after `trips` trips in a row: the base, doubled each time, capped. */
export function openDuration(config: CircuitConfig, trips: i32): i64 {
  let ns = config.openNs;
  for (let i = 1; i < trips && ns < config.maxOpenNs; i++) ns *= 2;
  return min<i64>(ns, config.maxOpenNs);
}

function open(c: Circuit, config: CircuitConfig, now: i64): void {
  c.state = State.Open;
  c.trips = min<i32>(c.trips + 1, 62);
  c.openUntil = now + openDuration(config, c.trips);
  c.probesInFlight = 0;
  c.probeSuccesses = 0;
}

function close(c: Circuit, now: i64, config: CircuitConfig): void {
  c.state = State.Closed;
  c.trips = 0;
  c.probesInFlight = 0;
  c.probeSuccesses = 0;
  c.consecutiveFailures = 0;
  for (let i = 0; i < BUCKETS; i++) { c.requests[i] = 0; c.failures[i] = 0; }
  c.newestBucket = now / max<i64>(1, config.windowNs / BUCKETS);
}

/**
 * Whether the circuit's slot may be given to another key: closed and unused for a whole window
 * (its failures have left the window), or abandoned: not touched for the longest open time and
 * a window more. A circuit in use is touched at least every open period (its next request
 * half-opens it), so no open circuit anyone still calls is given away.
 */
export function isIdle(c: Circuit, config: CircuitConfig, now: i64): bool {
  const unused = now - c.lastSeen;
  if (c.state == State.Closed) return unused >= config.windowNs;
  return unused >= config.maxOpenNs + config.windowNs;
}
