import { BufferType, WasmResult } from '../abi.js';
import { concatBytes } from '../bytes.js';
import type { BufferAccess, WasmVm } from '../vm.js';

const EMPTY: BufferAccess = { get: () => new Uint8Array(0) };

function lookup(vm: WasmVm, type: number): BufferAccess | undefined {
  const data = vm.callbackData;
  const context = vm.context();
  switch (type) {
    case BufferType.PluginConfiguration:
      return vm.configuring ? { get: () => vm.owner.configuration } : undefined;
    case BufferType.VmConfiguration:
      return { get: () => vm.owner.vmConfiguration };
    case BufferType.HttpCallResponseBody:
      return data.kind === 'http' && data.body ? { get: () => data.body! } : undefined;
    case BufferType.GrpcReceiveBuffer:
      return data.kind === 'grpc' && data.body ? { get: () => data.body! } : undefined;
    case BufferType.CallData:
      return data.kind === 'foreign' && data.body ? { get: () => data.body! } : undefined;
    case BufferType.HttpRequestBody:
    case BufferType.HttpResponseBody:
      // Outside its body callbacks a stream's body reads as empty (Envoy has no buffer to show).
      return context?.kind === 'stream' ? context.stream.buffer(type) ?? EMPTY : undefined;
    default:
      return undefined;
  }
}

export function bufferFunctions(vm: WasmVm) {
  return {
    proxy_get_buffer_status(type: number, lengthPtr: number, flagsPtr: number): number {
      const buffer = lookup(vm, type);
      if (!buffer) return WasmResult.NotFound;
      vm.setU32(lengthPtr, buffer.get().length);
      vm.setU32(flagsPtr, 0);
      return WasmResult.Ok;
    },
    proxy_get_buffer_bytes(type: number, start: number, length: number, ptrPtr: number, sizePtr: number): number {
      const buffer = lookup(vm, type);
      if (!buffer) return WasmResult.NotFound;
      const bytes = buffer.get();
      start >>>= 0;
      length >>>= 0;
      // Past the end is an empty read, not an error (Envoy copies what there is).
      if (start > bytes.length) start = bytes.length;
      const end = Math.min(bytes.length, start + length);
      vm.returnBytes(bytes.subarray(start, end), ptrPtr, sizePtr);
      return WasmResult.Ok;
    },
    proxy_set_buffer_bytes(type: number, start: number, length: number, dataPtr: number, dataSize: number): number {
      const buffer = lookup(vm, type);
      if (!buffer) return WasmResult.NotFound;
      if (!buffer.set) return WasmResult.BadArgument;
      const current = buffer.get();
      const data = vm.copyBytes(dataPtr, dataSize);
      start >>>= 0;
      length >>>= 0;
      // Envoy's Buffer::copyFrom: at the start it drains `length` bytes and prepends (so 0
      // prepends and >= size replaces all); at or past the end it appends; elsewhere BadArgument.
      if (start === 0) buffer.set(concatBytes(data, current.subarray(Math.min(length, current.length))));
      else if (start >= current.length) buffer.set(concatBytes(current, data));
      else return WasmResult.BadArgument;
      return WasmResult.Ok;
    },
  };
}
