// The two algorithms, as pure functions of a key's state and the time: a token bucket refilled
// continuously at max_amount per valid_duration, and a fixed window aligned to multiples of
// valid_duration since the epoch (so every worker and every Envoy agrees on window edges).
import { ALGORITHM_FIXED_WINDOW } from "./config";

/** A key's stored state: token bucket (tokens, last refill) or fixed window (count, window index). */
export class BucketState {
  algorithm: u8 = 0;
  /** Tokens left (token bucket) or requests counted (fixed window). */
  amount: f64 = 0;
  /** Last refill time in ns (token bucket) or the window index (fixed window). */
  mark: i64 = 0;
  /** Last time the key was used, in ns: the eviction order. */
  lastUsed: i64 = 0;
  /** The limit and window the state was last updated under, so idleness needs no configuration. */
  limit: i64 = 0;
  windowNs: i64 = 1;
  fresh: bool = true;
}

export class Decision {
  allowed: bool = true;
  limit: i64 = 0;
  windowNs: i64 = 0;
  remaining: i64 = 0;
  /** Until the key is back to its full limit. */
  resetNs: i64 = 0;
  /** Until the next request would be allowed (0 when allowed). */
  retryAfterNs: i64 = 0;
}

/** Refills below this fraction of a token count as whole: float rounding must not delay a refill. */
const EPSILON: f64 = 1e-9;

/** True when `state` holds nothing a fresh key would not: such a slot may be reused. */
export function isIdle(state: BucketState, now: i64): bool {
  if (state.fresh) return true;
  if (state.algorithm == ALGORITHM_FIXED_WINDOW) return now / state.windowNs > state.mark;
  return tokensAt(state, state.limit, state.windowNs, now) >= <f64>state.limit - EPSILON;
}

function tokensAt(state: BucketState, limit: i64, windowNs: i64, now: i64): f64 {
  if (state.fresh) return <f64>limit;
  const elapsed = max<i64>(0, now - state.mark);
  const refilled = state.amount + <f64>elapsed * <f64>limit / <f64>windowNs;
  return min<f64>(<f64>limit, refilled);
}

/** Takes one request from `state` (updated in place) and says whether it may pass. */
export function take(state: BucketState, algorithm: u8, limit: i64, windowNs: i64, now: i64): Decision {
  const d = new Decision();
  d.limit = limit;
  d.windowNs = windowNs;
  if (state.algorithm != algorithm) state.fresh = true;
  state.algorithm = algorithm;
  state.lastUsed = now;
  state.limit = limit;
  state.windowNs = windowNs;
  if (algorithm == ALGORITHM_FIXED_WINDOW) {
    // A wall clock stepping back stays in the window already counted: it re-grants nothing.
    const window = state.fresh ? now / windowNs : max<i64>(now / windowNs, state.mark);
    if (state.fresh || state.mark != window) { state.amount = 0; state.mark = window; }
    state.fresh = false;
    const end = (window + 1) * windowNs;
    d.resetNs = end - now;
    if (state.amount < <f64>limit) {
      state.amount += 1;
      d.remaining = limit - <i64>state.amount;
    } else {
      d.allowed = false;
      d.remaining = 0;
      d.retryAfterNs = end - now;
    }
    return d;
  }
  let tokens = tokensAt(state, limit, windowNs, now);
  state.fresh = false;
  // The refill clock never runs backwards: a wall clock stepping back then forward refills once.
  state.mark = max<i64>(state.mark, now);
  const perToken = <f64>windowNs / <f64>limit;
  if (tokens >= 1 - EPSILON) {
    tokens = max<f64>(0, tokens - 1);
    d.remaining = <i64>Math.floor(tokens + EPSILON);
  } else {
    d.allowed = false;
    d.remaining = 0;
    d.retryAfterNs = <i64>Math.ceil((1 - tokens) * perToken);
  }
  state.amount = tokens;
  d.resetNs = <i64>Math.ceil((<f64>limit - tokens) * perToken);
  return d;
}
