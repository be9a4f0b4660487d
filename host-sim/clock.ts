// Virtual time: nothing moves until a test advances the clock, so timers, ticks and callout
// timeouts fire at exact, repeatable instants.

export interface Timer { at: number; seq: number; fire: () => void; cancelled: boolean }

/** Where the monotonic clock starts: one hour of uptime. */
const MONOTONIC_ORIGIN_NS = 3_600_000_000_000n;

export class VirtualClock {
  /** Milliseconds since the Unix epoch. */
  private nowMs: number;
  private readonly startMs: number;
  private readonly timers = new Set<Timer>();
  private seq = 0;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.nowMs = startMs;
    this.startMs = startMs;
  }

  now(): number { return this.nowMs; }

  /** How far the wall clock was stepped (as NTP or an operator may); timers and the monotonic clock are unaffected. */
  private wallStepMs = 0;

  /** Wall-clock nanoseconds since the epoch, as proxy_get_current_time_nanoseconds returns. */
  nowNanos(): bigint { return BigInt(Math.round((this.nowMs + this.wallStepMs) * 1000)) * 1000n; }

  /** Steps the wall clock by `deltaMs` (negative: backwards), as a clock correction would. */
  stepWallClock(deltaMs: number): void { this.wallStepMs += deltaMs; }

  /**
   * Monotonic nanoseconds, as a steady clock that has been running a while (Envoy's reads the
   * machine's uptime; Go's runtime refuses a clock that reads zero).
   */
  monotonicNanos(): bigint { return MONOTONIC_ORIGIN_NS + BigInt(Math.round((this.nowMs - this.startMs) * 1000)) * 1000n; }

  /** Runs `fire` when the clock reaches now + `delayMs`. */
  schedule(delayMs: number, fire: () => void): Timer {
    const timer = { at: this.nowMs + Math.max(0, delayMs), seq: this.seq++, fire, cancelled: false };
    this.timers.add(timer);
    return timer;
  }

  cancel(timer: Timer | undefined): void {
    if (!timer) return;
    timer.cancelled = true;
    this.timers.delete(timer);
  }

  /** When the next live timer fires, or undefined when none is pending. */
  nextTimerAt(): number | undefined {
    let next: number | undefined;
    for (const t of this.timers) if (next === undefined || t.at < next) next = t.at;
    return next;
  }

  /** Moves time forward by `ms`, firing every timer due on the way in order. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`cannot move the clock by ${ms} ms`);
    const target = this.nowMs + ms;
    for (;;) {
      let due: Timer | undefined;
      for (const t of this.timers) {
        if (t.at <= target && (!due || t.at < due.at || (t.at === due.at && t.seq < due.seq))) due = t;
      }
      if (!due) break;
      this.timers.delete(due);
      this.nowMs = Math.max(this.nowMs, due.at);
      due.fire();
    }
    this.nowMs = target;
  }
}
