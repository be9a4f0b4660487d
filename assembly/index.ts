// wasm-filter-kit: the public API for writing Envoy Proxy-Wasm filters in AssemblyScript.
// Names shared with @solo-io/proxy-runtime keep their meaning, so its filters port by
// changing only their import specifiers.

export * from "./enums";
export * from "./pairs";
export { log, logEnabled, logTrace, logDebug, logInfo, logWarn, logError, logCritical } from "./log";
export * from "./headers";
export * from "./buffers";
export * from "./properties";
export * from "./shared-data";
export * from "./shared-queue";
export * from "./metrics";
export * from "./time";
export * from "./stream";
export * from "./foreign";
export * from "./protobuf";
export * from "./json";
export * from "./regex";
export * from "./duration";
export * from "./net";
export { ConfigReader } from "./config";
export * from "./sha256";
export * from "./base64";
export * from "./istio";
export * from "./peer";
export * from "./metadata";
export * from "./xfcc";
export * from "./path";
export * from "./secret";
export * from "./http";
export {
  BaseContext, RootContext, Context, RootContextFactory,
  HttpCallback, HttpCallResponse, GrpcCallHandler, GrpcStream, GrpcStreamResult, StatusResult, get_status,
} from "./context";
export { registerRootContext } from "./internal/registry";

import { proxy_set_effective_context as setEffective, proxy_done } from "./internal/imports";
import { WasmResultValues } from "./enums";

/** Makes later host calls act on `context_id` (@solo-io/proxy-runtime's name). */
export function proxy_set_effective_context(context_id: u32): WasmResultValues {
  return <WasmResultValues>setEffective(context_id);
}

export function done(): WasmResultValues { return <WasmResultValues>proxy_done(); }
