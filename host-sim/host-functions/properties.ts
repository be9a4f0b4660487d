import { WasmResult } from '../abi.js';
import type { WasmVm } from '../vm.js';

/** Splits a NUL-separated property path; a trailing NUL is tolerated, as Envoy does. */
export function splitPath(raw: string): string[] {
  const segments = raw.split('\0');
  if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
  return segments;
}

export function propertyFunctions(vm: WasmVm) {
  return {
    proxy_get_property(pathPtr: number, pathSize: number, valuePtrPtr: number, valueSizePtr: number): number {
      const path = splitPath(vm.string(pathPtr, pathSize));
      const context = vm.context();
      const value = context?.kind === 'stream' ? context.stream.property(path) : vm.owner.rootProperty(path);
      if (value === undefined) return WasmResult.NotFound;
      vm.returnBytes(value, valuePtrPtr, valueSizePtr);
      return WasmResult.Ok;
    },
    proxy_set_property(pathPtr: number, pathSize: number, valuePtr: number, valueSize: number): number {
      const context = vm.context();
      // Filter state needs a stream: the root context has none.
      if (context?.kind !== 'stream') return WasmResult.NotFound;
      return context.stream.setProperty(vm.string(pathPtr, pathSize), vm.copyBytes(valuePtr, valueSize));
    },
  };
}
