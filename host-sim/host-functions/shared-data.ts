// proxy_get/set_shared_data and the shared queue functions: state all worker VMs share.
import { WasmResult } from '../abi.js';
import type { WasmVm } from '../vm.js';
import type { HostServices } from './host-services.js';

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
