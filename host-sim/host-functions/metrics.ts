// proxy_define_metric, proxy_increment_metric, proxy_record_metric, proxy_get_metric.
import { WasmResult } from '../abi.js';
import type { WasmVm } from '../vm.js';
import type { HostServices } from './host-services.js';

export function metricFunctions(vm: WasmVm, services: HostServices) {
  return {
    proxy_define_metric(type: number, namePtr: number, nameSize: number, idPtr: number): number {
      const { result, id } = services.metrics.define(type, vm.string(namePtr, nameSize));
      if (result === WasmResult.Ok) vm.setU32(idPtr, id!);
      return result;
    },
    proxy_increment_metric(id: number, offset: bigint): number {
      return services.metrics.increment(id >>> 0, BigInt.asIntN(64, offset));
    },
    proxy_record_metric(id: number, value: bigint): number {
      return services.metrics.record(id >>> 0, value);
    },
    proxy_get_metric(id: number, resultPtr: number): number {
      const { result, value } = services.metrics.get(id >>> 0);
      if (result === WasmResult.Ok) vm.setU64(resultPtr, value!);
      return result;
    },
  };
}
