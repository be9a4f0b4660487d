// proxy_set_tick_period_milliseconds on the virtual clock: one timer per root context, re-armed
// after each tick unless on_tick changed the period, and stopped with its VM.
import { WasmResult } from './abi.js';
import type { Timer, VirtualClock } from './clock.js';
import type { WasmVm } from './vm.js';

export class Ticks {
  private readonly timers = new Map<string, Timer>();
  private readonly periods = new Map<string, number>();

  constructor(private readonly clock: VirtualClock) {}

  setTickPeriod(vm: WasmVm, rootContextId: number, periodMs: number): number {
    const key = `${vm.id}:${rootContextId}`;
    this.clock.cancel(this.timers.get(key));
    this.timers.delete(key);
    this.periods.delete(key);
    if (periodMs === 0) return WasmResult.Ok;
    const fire = () => {
      this.timers.delete(key);
      if (vm.failed || vm.retired) return;
      vm.call('proxy_on_tick', rootContextId, rootContextId);
      // Unless on_tick changed or stopped the timer, the next tick is one period later.
      if (!this.timers.has(key) && this.periods.get(key) === periodMs) this.timers.set(key, this.clock.schedule(periodMs, fire));
    };
    this.periods.set(key, periodMs);
    this.timers.set(key, this.clock.schedule(periodMs, fire));
    return WasmResult.Ok;
  }

  /** Stops the ticks of a VM Envoy discarded. */
  retire(vm: WasmVm): void {
    for (const [key, timer] of this.timers) {
      if (key.startsWith(`${vm.id}:`)) { this.clock.cancel(timer); this.timers.delete(key); this.periods.delete(key); }
    }
  }

  close(): void {
    for (const t of this.timers.values()) this.clock.cancel(t);
  }
}
