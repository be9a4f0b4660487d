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
export * from "./util/protobuf";
export * from "./util/json";
export * from "./util/regex";
export * from "./duration";
export * from "./util/net";
export { ConfigReader } from "./config";
export * from "./util/sha256";
export * from "./util/base64";
export * from "./istio";
export * from "./peer";
export * from "./metadata";
export * from "./xfcc";
export * from "./path";
export * from "./secret";
export * from "./shared-slots";
export * from "./http";
export { BaseContext } from "./base-context";
export { RootContext, Context, RootContextFactory } from "./context";
export { HttpCallback, HttpCallResponse, GrpcCallHandler, GrpcStream, GrpcStreamResult, StatusResult, get_status } from "./callout";
export { registerRootContext } from "./internal/registry";
export * from "./compat";
