// Bounds on what a module may take, so one bad module fails its test instead of hanging or
// exhausting the test run: a call into a module that runs longer than the host's time limit is
// stopped (V8 interrupts Wasm loops), and linear memory cannot grow past Envoy's limit (there
// memory.grow fails, as in Envoy's V8). Envoy itself has no time limit: a module that loops
// there hangs its worker; here the test says so.
import { setFlagsFromString } from 'node:v8';
import vm from 'node:vm';
import { MAX_MEMORY_BYTES } from './contract.js';

// Process-wide, as in Envoy: memory.grow past 1 GiB returns -1.
setFlagsFromString(`--wasm-max-mem-pages=${MAX_MEMORY_BYTES / 65536}`);

/** A module call stopped by the time limit. */
export class ModuleTimeoutError extends Error {}

const runner = new vm.Script('result = work()');
const context = vm.createContext({ work: undefined as (() => unknown) | undefined, result: undefined as unknown });

/** True while a guarded run is in progress (calls into modules are synchronous, so one at a time). */
let active = false;

/** The VM a stopped call belonged to: it is failed, as its state is now whatever the loop left. */
export interface Stoppable { fail(reason: string, callback?: string): void }

export class Watchdog {
  /** The call into a module in progress, named for the error (set by each call, cheaply). */
  current = '';
  currentCallback = '';
  currentVm?: Stoppable;

  /** `limitMs` of 0 turns the limit off. */
  constructor(readonly limitMs: number) {}

  /**
   * Runs `work` under the time limit; `what` names it in the error unless a call into a module
   * was running. A run inside another shares the outer one's limit, so the host guards whole
   * bursts of calls (a request's callbacks, a timer) at once: each guard costs a thread.
   */
  run<T>(what: () => string, work: () => T): T {
    if (active || this.limitMs <= 0) return work();
    active = true;
    context.work = work;
    try {
      runner.runInContext(context, { timeout: this.limitMs });
      return context.result as T;
    } catch (e) {
      if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
        const message = `${this.current || what()} ran longer than ${this.limitMs} ms (host-sim's time limit): the module may loop forever`;
        this.currentVm?.fail(message, this.currentCallback || undefined);
        throw new ModuleTimeoutError(message);
      }
      throw e;
    } finally {
      active = false;
      this.current = '';
      this.currentCallback = '';
      this.currentVm = undefined;
      context.work = undefined;
      context.result = undefined;
    }
  }
}
