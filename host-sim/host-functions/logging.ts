import { LOG_LEVEL_NAMES, WasmResult } from '../abi.js';
import type { WasmVm } from '../vm.js';
import type { HostServices } from './host-services.js';

export function loggingFunctions(vm: WasmVm, services: HostServices) {
  return {
    proxy_log(level: number, ptr: number, size: number): number {
      if (level < 0 || level > 5) return WasmResult.BadArgument;
      vm.log(LOG_LEVEL_NAMES[level], vm.string(ptr, size));
      return WasmResult.Ok;
    },
    proxy_get_log_level(levelPtr: number): number {
      vm.setU32(levelPtr, services.logLevel());
      return WasmResult.Ok;
    },
    proxy_get_status(codePtr: number, messagePtrPtr: number, messageSizePtr: number): number {
      vm.setU32(codePtr, vm.lastStatus.code);
      vm.returnBytes(new TextEncoder().encode(vm.lastStatus.message), messagePtrPtr, messageSizePtr);
      return WasmResult.Ok;
    },
  };
}
