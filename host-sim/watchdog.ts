// Bounds on what a module may take, so one bad module fails its test instead of hanging or
// exhausting the test run: a call into a module that runs longer than the host's time limit is
// stopped, and linear memory cannot grow past Envoy's limit (there memory.grow fails, as in
// Envoy's V8). Envoy itself has no time limit: a module that loops there hangs its worker; here
// the test says so.
//
// Two guards stop a call. Modules get a work budget compiled in (wasm/budget.ts): one unit per
// function entry and loop iteration, as many units as the limit has nanoseconds, refilled on
// each call, while host calls check the clock; this costs almost nothing per call. A module the
// rewrite cannot handle runs under the runtime's interrupt instead (platform.ts: Node's vm
// timeout), or, where there is none (a page), without a limit.
import { platform } from './platform.js';
import { BUDGET_EXPORT, withBudget } from './wasm/budget.js';

/** A module call stopped by the time limit. */
export class ModuleTimeoutError extends Error {}

/** True while a guarded run is in progress (calls into modules are synchronous, so one at a time). */
let active = false;

/** The VM a stopped call belonged to: it is failed, as its state is now whatever the loop left. */
export interface Stoppable { fail(reason: string, callback?: string): void }

/** A call's budget: the module's exported counter, refilled before each call. */
export type Budget = WebAssembly.Global<'i64'>;

export class Watchdog {
  /** The call into a module in progress, named for the error (set by each call, cheaply). */
  current = '';
  currentCallback = '';
  currentVm?: Stoppable;
  /** Set once a module without a budget was loaded: every burst then runs under the vm timeout. */
  private timerNeeded = false;
  private deadline = 0;
  private hostCalls = 0;

  /** The units a call may spend: one per nanosecond of the limit. */
  private readonly units: bigint;

  /** `limitMs` of 0 turns the limit off. */
  constructor(readonly limitMs: number) {
    this.units = BigInt(Math.max(0, Math.floor(limitMs))) * 1_000_000n;
  }

  /**
   * The module to compile: with a budget when the limit is on and the rewrite knows the module
   * (a source map then learns the rewritten offsets), else as it is, under the vm timeout.
   */
  prepare(bytes: Uint8Array, locator?: { originalOffset: (offset: number) => number }): Uint8Array {
    if (this.limitMs <= 0) return bytes;
    const budgeted = withBudget(bytes, this.units);
    if (!budgeted) {
      this.timerNeeded = true;
      return bytes;
    }
    if (locator) locator.originalOffset = budgeted.originalOffset;
    return budgeted.bytes;
  }

  /** The budget of an instance `prepare` rewrote, if any. */
  static budgetOf(instance: WebAssembly.Instance): Budget | undefined {
    return instance.exports[BUDGET_EXPORT] as Budget | undefined;
  }

  /** Refills a call's budget (calls it on entry to the outermost call into a VM). */
  refill(budget: Budget | undefined): void {
    if (budget && this.limitMs > 0) budget.value = this.units;
  }

  /** True when a trap was the budget running out rather than the module's own. */
  static exhausted(budget: Budget | undefined): boolean { return budget !== undefined && budget.value <= 0n; }

  /**
   * Runs `work` under the time limit; `what` names it in the error unless a call into a module
   * was running. A run inside another shares the outer one's limit, so the host guards whole
   * bursts of calls (a request's callbacks, a timer) at once.
   */
  run<T>(what: () => string, work: () => T): T {
    if (active || this.limitMs <= 0) return work();
    active = true;
    try {
      const interruptible = platform().interruptible;
      if (!this.timerNeeded || !interruptible) {
        this.deadline = performance.now() + this.limitMs;
        return work();
      }
      try {
        return interruptible.run(work, this.limitMs);
      } catch (e) {
        if (interruptible.isTimeout(e)) this.stop(what());
        throw e;
      }
    } finally {
      active = false;
      this.current = '';
      this.currentCallback = '';
      this.currentVm = undefined;
    }
  }

  /** Called on each host call: stops a budgeted call whose time is up (the clock is read every 64th call). */
  checkDeadline(): void {
    if ((++this.hostCalls & 63) !== 0 || !active || this.timerNeeded) return;
    if (performance.now() > this.deadline) this.stop('a call');
  }

  /** Stops the call in progress: fails its VM, and throws the error that says so. */
  stop(what: string): never {
    const message = `${this.current || what} ran longer than ${this.limitMs} ms (host-sim's time limit): the module may loop forever`;
    this.currentVm?.fail(message, this.currentCallback || undefined);
    throw new ModuleTimeoutError(message);
  }
}
