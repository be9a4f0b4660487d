import { WasmResult } from '../abi.js';
import { decodePairs } from '../pairs.js';
import type { WasmVm } from '../vm.js';
import type { HostServices } from './host-services.js';

export function calloutFunctions(vm: WasmVm, services: HostServices) {
  // cpp-host runs every callout on the root context of the calling context: the response
  // arrives at that root context's id, whichever stream made the call.
  const contextId = () => {
    const context = vm.context();
    return context?.kind === 'stream' ? context.rootContextId : context?.id ?? 0;
  };
  const pairs = (ptr: number, size: number) => (size === 0 ? [] : decodePairs(vm.bytes(ptr, size)));
  return {
    proxy_http_call(uriPtr: number, uriSize: number, headersPtr: number, headersSize: number, bodyPtr: number, bodySize: number,
      trailersPtr: number, trailersSize: number, timeoutMs: number, tokenPtr: number): number {
      const headers = pairs(headersPtr, headersSize);
      const trailers = pairs(trailersPtr, trailersSize);
      if (!headers || !trailers) return WasmResult.ParseFailure;
      if (timeoutMs < 0) return WasmResult.BadArgument;
      const { result, token } = services.httpCall(vm, contextId(), {
        cluster: vm.string(uriPtr, uriSize), headers, body: vm.copyBytes(bodyPtr, bodySize), trailers, timeoutMs,
      });
      if (result === WasmResult.Ok) vm.setU32(tokenPtr, token!);
      return result;
    },
    proxy_grpc_call(servicePtr: number, serviceSize: number, serviceNamePtr: number, serviceNameSize: number,
      methodPtr: number, methodSize: number, metadataPtr: number, metadataSize: number,
      requestPtr: number, requestSize: number, timeoutMs: number, tokenPtr: number): number {
      const metadata = pairs(metadataPtr, metadataSize);
      if (!metadata) return WasmResult.ParseFailure;
      const { result, token } = services.grpcCall(vm, contextId(), {
        cluster: vm.string(servicePtr, serviceSize), service: vm.string(serviceNamePtr, serviceNameSize),
        method: vm.string(methodPtr, methodSize), metadata, message: vm.copyBytes(requestPtr, requestSize), timeoutMs,
      });
      if (result === WasmResult.Ok) vm.setU32(tokenPtr, token!);
      return result;
    },
    proxy_grpc_stream(servicePtr: number, serviceSize: number, serviceNamePtr: number, serviceNameSize: number,
      methodPtr: number, methodSize: number, metadataPtr: number, metadataSize: number, tokenPtr: number): number {
      const metadata = pairs(metadataPtr, metadataSize);
      if (!metadata) return WasmResult.ParseFailure;
      const { result, token } = services.grpcStream(vm, contextId(), {
        cluster: vm.string(servicePtr, serviceSize), service: vm.string(serviceNamePtr, serviceNameSize),
        method: vm.string(methodPtr, methodSize), metadata, timeoutMs: 0,
      });
      if (result === WasmResult.Ok) vm.setU32(tokenPtr, token!);
      return result;
    },
    proxy_grpc_send(token: number, messagePtr: number, messageSize: number, endStream: number): number {
      return services.grpcSend(vm, token >>> 0, vm.copyBytes(messagePtr, messageSize), endStream !== 0);
    },
    proxy_grpc_cancel(token: number): number { return services.grpcCancel(vm, token >>> 0); },
    proxy_grpc_close(token: number): number { return services.grpcClose(vm, token >>> 0); },
  };
}
