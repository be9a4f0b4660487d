import { HeaderMapType, WasmResult } from '../abi.js';
import { bytesToText, textToBytes } from '../bytes.js';
import { decodePairs, encodePairs } from '../pairs.js';
import type { HeaderEdit, WasmVm } from '../vm.js';

type HeaderList = [string, string][];

/** The map a call names, or undefined when the current callback may not touch it. */
function lookup(vm: WasmVm, type: number, write = false): HeaderList | undefined {
  const data = vm.callbackData;
  switch (type) {
    case HeaderMapType.HttpCallResponseHeaders: return data.kind === 'http' ? data.headers : undefined;
    case HeaderMapType.HttpCallResponseTrailers: return data.kind === 'http' ? data.trailers : undefined;
    case HeaderMapType.GrpcReceiveInitialMetadata: return data.kind === 'grpc' ? data.headers : undefined;
    case HeaderMapType.GrpcReceiveTrailingMetadata: return data.kind === 'grpc' ? data.trailers : undefined;
  }
  const context = vm.context();
  if (context?.kind !== 'stream' || type < 0 || type > 3) return undefined;
  return context.stream.headerMap(type, write);
}

/**
 * Callout responses and gRPC metadata are read-only. A change to the request headers makes
 * Envoy (ABI 0.2.1 and older) clear the route cache, so the router decides again.
 */
function writable(vm: WasmVm, type: number): HeaderList | undefined {
  const map = type >= 0 && type <= 3 ? lookup(vm, type, true) : undefined;
  if (map && type === HeaderMapType.RequestHeaders) {
    const context = vm.context();
    if (context?.kind === 'stream') context.stream.clearRouteCache();
  }
  return map;
}

/** Records a write to a stream's header map in its trace. */
function note(vm: WasmVm, type: number, edit: HeaderEdit): void {
  const context = vm.context();
  if (context?.kind === 'stream') context.stream.noteEdit(type, edit);
}

export function headerFunctions(vm: WasmVm) {
  const key = (ptr: number, size: number) => bytesToText(vm.bytes(ptr, size)).toLowerCase();
  const value = (ptr: number, size: number) => bytesToText(vm.bytes(ptr, size));
  return {
    proxy_get_header_map_value(type: number, keyPtr: number, keySize: number, valuePtrPtr: number, valueSizePtr: number): number {
      const map = lookup(vm, type);
      if (!map) return WasmResult.BadArgument;
      const k = key(keyPtr, keySize);
      const entry = map.find(([name]) => name === k);
      if (!entry) {
        if (vm.abi !== '0.1.0') return WasmResult.NotFound;
        vm.returnBytes(new Uint8Array(0), valuePtrPtr, valueSizePtr);
        return WasmResult.Ok;
      }
      vm.returnBytes(textToBytes(entry[1]), valuePtrPtr, valueSizePtr);
      return WasmResult.Ok;
    },
    proxy_add_header_map_value(type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
      const map = writable(vm, type);
      if (!map) return WasmResult.BadArgument;
      const entry: [string, string] = [key(keyPtr, keySize), value(valuePtr, valueSize)];
      map.push(entry);
      note(vm, type, ['add', entry[0], entry[1]]);
      return WasmResult.Ok;
    },
    proxy_replace_header_map_value(type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
      const map = writable(vm, type);
      if (!map) return WasmResult.BadArgument;
      const k = key(keyPtr, keySize);
      const v = value(valuePtr, valueSize);
      removeAll(map, k);
      map.push([k, v]);
      note(vm, type, ['set', k, v]);
      return WasmResult.Ok;
    },
    proxy_remove_header_map_value(type: number, keyPtr: number, keySize: number): number {
      const map = writable(vm, type);
      if (!map) return WasmResult.BadArgument;
      const k = key(keyPtr, keySize);
      removeAll(map, k);
      note(vm, type, ['remove', k]);
      return WasmResult.Ok;
    },
    proxy_get_header_map_pairs(type: number, ptrPtr: number, sizePtr: number): number {
      if (type < 0 || type > HeaderMapType.HttpCallResponseTrailers) return WasmResult.BadArgument;
      // Envoy returns no bytes at all for an empty (or unreachable) map, not a zero count.
      const map = lookup(vm, type) ?? [];
      vm.returnBytes(map.length === 0 ? new Uint8Array(0) : encodePairs(map), ptrPtr, sizePtr);
      return WasmResult.Ok;
    },
    proxy_set_header_map_pairs(type: number, ptr: number, size: number): number {
      const map = writable(vm, type);
      if (!map) return WasmResult.BadArgument;
      const pairs = decodePairs(vm.bytes(ptr, size)) ?? [];
      map.length = 0;
      for (const [k, v] of pairs) map.push([k.toLowerCase(), v]);
      note(vm, type, ['set all']);
      return WasmResult.Ok;
    },
    proxy_get_header_map_size(type: number, sizePtr: number): number {
      const map = lookup(vm, type);
      if (!map) return WasmResult.BadArgument;
      vm.setU32(sizePtr, map.reduce((n, [k, v]) => n + textToBytes(k).length + textToBytes(v).length, 0));
      return WasmResult.Ok;
    },
  };
}

function removeAll(map: HeaderList, key: string): void {
  for (let i = map.length - 1; i >= 0; i--) if (map[i][0] === key) map.splice(i, 1);
}
