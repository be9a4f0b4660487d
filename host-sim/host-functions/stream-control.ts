import { StreamType, WasmResult } from '../abi.js';
import { decodePairs } from '../pairs.js';
import type { WasmVm } from '../vm.js';
import type { HostServices } from './host-services.js';

/** Continue, close, local replies, timers, time, effective context: the stream and VM controls. */
export function streamControlFunctions(vm: WasmVm, services: HostServices) {
  const stream = () => {
    const context = vm.context();
    return context?.kind === 'stream' ? context.stream : undefined;
  };
  return {
    // On a root context these have no stream to act on; Envoy answers Ok and does nothing.
    proxy_continue_stream(type: number): number {
      if (type < 0 || type > StreamType.Upstream) return WasmResult.BadArgument;
      return stream()?.continueStream(type) ?? WasmResult.Ok;
    },
    proxy_close_stream(type: number): number {
      if (type < 0 || type > StreamType.Upstream) return WasmResult.BadArgument;
      return stream()?.closeStream(type) ?? WasmResult.Ok;
    },
    proxy_continue_request(): number {
      return stream()?.continueStream(StreamType.Request) ?? WasmResult.NotFound;
    },
    proxy_continue_response(): number {
      return stream()?.continueStream(StreamType.Response) ?? WasmResult.NotFound;
    },
    proxy_clear_route_cache(): number {
      const s = stream();
      if (!s) return WasmResult.NotFound;
      s.clearRouteCache(true);
      return WasmResult.Ok;
    },
    proxy_send_local_response(status: number, detailsPtr: number, detailsSize: number, bodyPtr: number, bodySize: number,
      headersPtr: number, headersSize: number, grpcStatus: number): number {
      const s = stream();
      if (!s) return WasmResult.Ok;
      const headers = headersSize === 0 ? [] : decodePairs(vm.bytes(headersPtr, headersSize));
      if (!headers) return WasmResult.ParseFailure;
      return s.sendLocalResponse({
        status, details: vm.string(detailsPtr, detailsSize), body: vm.copyBytes(bodyPtr, bodySize),
        headers, grpcStatus: grpcStatus >= 0 && grpcStatus <= 16 ? grpcStatus : -1,
      });
    },
    proxy_get_configuration(ptrPtr: number, sizePtr: number): number {
      vm.returnBytes(vm.owner.configuration, ptrPtr, sizePtr);
      return WasmResult.Ok;
    },
    proxy_set_tick_period_milliseconds(period: number): number {
      const context = vm.context();
      const rootId = context?.kind === 'stream' ? context.rootContextId : context?.id ?? 0;
      return services.setTickPeriod(vm, rootId, period >>> 0);
    },
    proxy_get_current_time_nanoseconds(resultPtr: number): number {
      vm.setU64(resultPtr, services.clock.nowNanos());
      return WasmResult.Ok;
    },
    proxy_set_effective_context(contextId: number): number {
      if (!vm.contexts.has(contextId >>> 0)) return WasmResult.BadArgument;
      vm.effectiveContextId = contextId >>> 0;
      return WasmResult.Ok;
    },
    proxy_done(): number {
      return services.done(vm, vm.effectiveContextId || vm.currentContextId);
    },
    proxy_call_foreign_function(namePtr: number, nameSize: number, argsPtr: number, argsSize: number,
      resultsPtrPtr: number, resultsSizePtr: number): number {
      const { result, data } = services.foreignFunction(vm, vm.string(namePtr, nameSize), vm.copyBytes(argsPtr, argsSize));
      if (result === WasmResult.Ok) vm.returnBytes(data ?? new Uint8Array(0), resultsPtrPtr, resultsSizePtr);
      return result;
    },
    pthread_equal(left: number, right: number): number {
      return left === right ? 1 : 0;
    },
    emscripten_notify_memory_growth(_index: number): void {},
    envoy_resolve_dns(_addressPtr: number, _addressSize: number, _tokenPtr: number): number {
      // No DNS resolver in the simulator: report it the way a host without the service would.
      return WasmResult.Unimplemented;
    },
  };
}
