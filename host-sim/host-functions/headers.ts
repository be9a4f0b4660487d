import { HeaderMapType, WasmResult } from '../abi.js';
import { bytesToText, textToBytes } from '../bytes.js';
import { decodePairs, encodePairs } from '../pairs.js';
import type { StreamAccess, WasmVm } from '../vm.js';

type HeaderList = [string, string][];

/** The map a read names, or undefined when the current callback may not touch it. */
function lookup(vm: WasmVm, type: number): HeaderList | undefined {
  const data = vm.callbackData;
  switch (type) {
    case HeaderMapType.HttpCallResponseHeaders: return data.kind === 'http' ? data.headers : undefined;
    case HeaderMapType.HttpCallResponseTrailers: return data.kind === 'http' ? data.trailers : undefined;
    case HeaderMapType.GrpcReceiveInitialMetadata: return data.kind === 'grpc' ? data.headers : undefined;
    case HeaderMapType.GrpcReceiveTrailingMetadata: return data.kind === 'grpc' ? data.trailers : undefined;
  }
  const context = vm.context();
  if (context?.kind !== 'stream' || type < 0 || type > 3) return undefined;
  return context.stream.headerMap(type, false);
}

/** The stream a write may change: only a stream's own maps are writable (callout responses and gRPC metadata are read-only). */
function streamOf(vm: WasmVm, type: number): StreamAccess | undefined {
  const context = vm.context();
  return type >= 0 && type <= 3 && context?.kind === 'stream' ? context.stream : undefined;
}

/**
 * The map a write names, or undefined when the filter may not write it now. A change to the
 * request headers makes Envoy (ABI 0.2.1 and older) clear the route cache, so the router decides again.
 */
function writable(stream: StreamAccess | undefined, type: number): HeaderList | undefined {
  const map = stream?.headerMap(type, true);
  if (map && type === HeaderMapType.RequestHeaders) stream!.clearRouteCache();
  return map;
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
      const stream = streamOf(vm, type);
      const map = writable(stream, type);
      if (!map) return WasmResult.BadArgument;
      const entry: [string, string] = [key(keyPtr, keySize), value(valuePtr, valueSize)];
      map.push(entry);
      stream!.noteEdit(type, ['add', entry[0], entry[1]]);
      return WasmResult.Ok;
    },
    proxy_replace_header_map_value(type: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number): number {
      const stream = streamOf(vm, type);
      const map = writable(stream, type);
      if (!map) return WasmResult.BadArgument;
      const k = key(keyPtr, keySize);
      const v = value(valuePtr, valueSize);
      removeAll(map, k);
      map.push([k, v]);
      stream!.noteEdit(type, ['set', k, v]);
      return WasmResult.Ok;
    },
    proxy_remove_header_map_value(type: number, keyPtr: number, keySize: number): number {
      const stream = streamOf(vm, type);
      const map = writable(stream, type);
      if (!map) return WasmResult.BadArgument;
      const k = key(keyPtr, keySize);
      removeAll(map, k);
      stream!.noteEdit(type, ['remove', k]);
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
      const stream = streamOf(vm, type);
      const map = writable(stream, type);
      if (!map) return WasmResult.BadArgument;
      const pairs = decodePairs(vm.bytes(ptr, size)) ?? [];
      map.length = 0;
      for (const [k, v] of pairs) map.push([k.toLowerCase(), v]);
      stream!.noteEdit(type, ['set all']);
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
