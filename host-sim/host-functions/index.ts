// Links a module's imports to host-sim's implementations. The load rules (../load-rules.ts)
// have already refused what Envoy would not link.
import { HOST_IMPORTS } from '../contract.js';
import type { ModuleInfo } from '../wasm/binary.js';
import { HostTrap, MemoryAccessError, type WasmVm } from '../vm.js';
import { bufferFunctions } from './buffers.js';
import { calloutFunctions } from './callouts.js';
import { headerFunctions } from './headers.js';
import { loggingFunctions } from './logging.js';
import { propertyFunctions } from './properties.js';
import type { HostServices } from './host-services.js';
import { metricFunctions } from './metrics.js';
import { sharedDataFunctions, sharedQueueFunctions } from './shared-data.js';
import { streamControlFunctions } from './stream-control.js';
import { wasiFunctions } from './wasi.js';

export type { HostServices, HttpCallRequest, GrpcCallRequest } from './host-services.js';

/** An import Envoy provides but host-sim does not implement. */
export class LinkError extends Error {}

type HostFunction = (...args: never[]) => unknown;


export interface LinkOptions {
  /** WASI environment variables (Envoy's vm_config.environment_variables). */
  environment?: Record<string, string>;
  /** Wakes a root context's on_queue_ready. */
  wakeQueue: (rootContextId: number, token: number) => void;
}

/** Every host function by name, bound to `vm`. */
export function hostFunctions(vm: WasmVm, services: HostServices, options: LinkOptions): Record<string, HostFunction> {
  return {
    ...loggingFunctions(vm, services),
    ...headerFunctions(vm),
    ...bufferFunctions(vm),
    ...propertyFunctions(vm),
    ...sharedDataFunctions(vm, services),
    ...sharedQueueFunctions(vm, services, options.wakeQueue),
    ...metricFunctions(vm, services),
    ...calloutFunctions(vm, services),
    ...streamControlFunctions(vm, services),
  } as Record<string, HostFunction>;
}

/** Builds the import object for `info`'s imports (which passed the load rules). */
export function linkImports(vm: WasmVm, info: ModuleInfo, services: HostServices, options: LinkOptions): WebAssembly.Imports {
  const env = hostFunctions(vm, services, options);
  const wasi = wasiFunctions(vm, services, options.environment ?? {});
  const imports: Record<string, Record<string, HostFunction>> = {};
  for (const imp of info.imports) {
    if (imp.kind === 'memory') {
      // V8 (Envoy's default runtime) creates a memory a module imports.
      (imports[imp.module] ??= {})[imp.name] = new WebAssembly.Memory({ initial: imp.limits?.min ?? 1, maximum: imp.limits?.max }) as never;
      continue;
    }
    const isWasi = imp.module !== 'env';
    const impl = isWasi ? wasi[imp.name] ?? notSupported : env[imp.name];
    if (!impl) throw new LinkError(`host-sim has no implementation of ${imp.module}.${imp.name}`);
    // The contract says which imports cpp-host lets a start function call.
    const allowedDuringStart = HOST_IMPORTS.some((h) => h.module === imp.module && h.name === imp.name && h.allowedDuringStart);
    (imports[imp.module] ??= {})[imp.name] = restrict(vm, imp.name, isWasi, allowedDuringStart, impl as HostFunction);
  }
  return imports as WebAssembly.Imports;
}

/** WASI functions host-sim does not implement link but report ENOSYS (as Envoy's stubs do). */
function notSupported(): number { return 52; }

/**
 * Applies Envoy's rules on when the host may be called: never from a core-wasm start section
 * (it runs while instantiating, with no context), and from start functions only the allow-list.
 */
function restrict(vm: WasmVm, name: string, isWasi: boolean, allowedDuringStart: boolean, fn: HostFunction): HostFunction {
  return (...args: never[]) => {
    if (vm.instantiating) throw new HostTrap(`${name} called from the module's start section, before any context exists`);
    if (vm.restricted && !allowedDuringStart) throw new HostTrap(`restricted_callback: ${name} called from a start function`);
    // A module looping on host calls spends little of its budget: the clock stops it.
    vm.owner.watchdog.checkDeadline();
    try {
      return fn(...args);
    } catch (e) {
      // cpp-host answers a bad pointer with InvalidMemoryAccess (WASI: EFAULT) instead of trapping.
      if (e instanceof MemoryAccessError) return isWasi ? 21 : 6;
      throw e;
    }
  };
}
