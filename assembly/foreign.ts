import { proxy_call_foreign_function } from "./internal/imports";
import { OUT_PTR, OUT_SIZE, resetReturned, takeReturnedBytes } from "./internal/memory";
import { WasmResultValues } from "./enums";
import { ProtoWriter } from "./util/protobuf";

// Envoy exposes extra host services as "foreign functions", called by name with bytes in and out.

export class ForeignResult {
  constructor(public result: WasmResultValues, public data: ArrayBuffer) {}
}

/** Calls the host's foreign function `name`; NotFound when the host has none by that name. */
export function callForeignFunction(name: string, args: ArrayBuffer): ForeignResult {
  const encodedName = String.UTF8.encode(name);
  resetReturned();
  const result = <WasmResultValues>proxy_call_foreign_function(changetype<usize>(encodedName), encodedName.byteLength,
    changetype<usize>(args), args.byteLength, OUT_PTR, OUT_SIZE);
  return new ForeignResult(result, takeReturnedBytes());
}

/**
 * Makes Envoy's router choose the route again after the filter changed request headers.
 * Since late 2024 Envoy no longer does this on its own for header changes.
 */
export function clear_route_cache(): WasmResultValues {
  return callForeignFunction("clear_route_cache", new ArrayBuffer(0)).result;
}

/** How Envoy stores a declared property (envoy.source.extensions.common.wasm.WasmType). */
export enum PropertyType { Bytes = 0, String = 1, FlatBuffers = 2, Protobuf = 3 }

/** How long a property or filter state object lives (envoy.source.extensions.common.wasm.LifeSpan). */
export enum LifeSpan { FilterChain = 0, DownstreamRequest = 1, DownstreamConnection = 2 }

/** Declares the type and lifetime of a property before set_property writes it. */
export function declareProperty(name: string, type: PropertyType, readonly: bool = false,
  span: LifeSpan = LifeSpan.FilterChain, schema: ArrayBuffer = new ArrayBuffer(0)): WasmResultValues {
  const args = new ProtoWriter()
    .string(1, name)
    .bool(2, readonly)
    .uint64(3, <u64>type)
    .bytesField(4, schema)
    .uint64(5, <u64>span)
    .finish();
  return callForeignFunction("declare_property", args).result;
}

/** Creates an Envoy filter state object (`path` is its registered key, `value` the factory input). */
export function setEnvoyFilterState(path: string, value: string, span: LifeSpan = LifeSpan.FilterChain): WasmResultValues {
  const args = new ProtoWriter().string(1, path).string(2, value).uint64(3, <u64>span).finish();
  return callForeignFunction("set_envoy_filter_state", args).result;
}
