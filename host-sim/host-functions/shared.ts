import { WasmResult } from '../abi.js';
import type { WasmVm } from '../vm.js';
import type { HostServices } from './services.js';

export function sharedDataFunctions(vm: WasmVm, services: HostServices) {
  return {
    proxy_get_shared_data(keyPtr: number, keySize: number, valuePtrPtr: number, valueSizePtr: number, casPtr: number): number {
      const entry = services.shared.get(vm.owner.vmId, vm.string(keyPtr, keySize));
      if (!entry) return WasmResult.NotFound;
      vm.returnBytes(entry.value, valuePtrPtr, valueSizePtr);
      vm.setU32(casPtr, entry.cas);
      return WasmResult.Ok;
    },
    proxy_set_shared_data(keyPtr: number, keySize: number, valuePtr: number, valueSize: number, cas: number): number {
      return services.shared.set(vm.owner.vmId, vm.string(keyPtr, keySize), vm.copyBytes(valuePtr, valueSize), cas >>> 0);
    },
  };
}

export function sharedQueueFunctions(vm: WasmVm, services: HostServices, wakeQueue: (rootContextId: number, token: number) => void) {
  return {
    proxy_register_shared_queue(namePtr: number, nameSize: number, tokenPtr: number): number {
      const context = vm.context();
      const rootContextId = context?.kind === 'stream' ? context.rootContextId : context?.id ?? 0;
      const token = services.queues.register(vm.owner.vmId, vm.string(namePtr, nameSize), (t) => wakeQueue(rootContextId, t));
      vm.setU32(tokenPtr, token);
      return WasmResult.Ok;
    },
    proxy_resolve_shared_queue(vmIdPtr: number, vmIdSize: number, namePtr: number, nameSize: number, tokenPtr: number): number {
      const token = services.queues.resolve(vm.string(vmIdPtr, vmIdSize), vm.string(namePtr, nameSize));
      if (token === undefined) return WasmResult.NotFound;
      vm.setU32(tokenPtr, token);
      return WasmResult.Ok;
    },
    proxy_enqueue_shared_queue(token: number, dataPtr: number, dataSize: number): number {
      return services.queues.enqueue(token >>> 0, vm.copyBytes(dataPtr, dataSize));
    },
    proxy_dequeue_shared_queue(token: number, dataPtrPtr: number, dataSizePtr: number): number {
      const { result, data } = services.queues.dequeue(token >>> 0);
      if (result === WasmResult.Ok) vm.returnBytes(data!, dataPtrPtr, dataSizePtr);
      return result;
    },
  };
}

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
