// Callouts waiting for their response, and the delivery of responses: each runs as the context
// that asked (http) or its handler's context (gRPC). A successful unary gRPC call gets its
// response alone from Envoy; the SDK closes it.
import { get_status, grpcCalls, GrpcCallHandler, httpCalls } from "../callout";
import { GrpcStatusValues, LogLevelValues } from "../enums";
import { log } from "../log";
import { proxy_set_effective_context } from "./imports";

export function dispatchHttpCallResponse(token: u32, headers: u32, body_size: u32, trailers: u32): void {
  if (!httpCalls.has(token)) {
    log(LogLevelValues.warn, "http call response for unknown token " + token.toString());
    return;
  }
  const callback = httpCalls.get(token);
  httpCalls.delete(token);
  proxy_set_effective_context(callback.origin_context.context_id);
  callback.cb(callback.origin_context, headers, body_size, trailers);
}

function grpcHandler(token: u32): GrpcCallHandler | null {
  if (!grpcCalls.has(token)) {
    log(LogLevelValues.warn, "gRPC event for unknown token " + token.toString());
    return null;
  }
  const handler = grpcCalls.get(token);
  const context = handler.context;
  if (context !== null) proxy_set_effective_context(context.context_id);
  return handler;
}

export function dispatchGrpcInitialMetadata(token: u32, count: u32): void {
  const handler = grpcHandler(token);
  if (handler !== null) handler.onInitialMetadata(count);
}

export function dispatchGrpcMessage(token: u32, message: ArrayBuffer): void {
  const handler = grpcHandler(token);
  if (handler === null) return;
  if (handler.unary) grpcCalls.delete(token);
  handler.onMessage(message);
  if (handler.unary) handler.onClose(GrpcStatusValues.Ok, "");
}

export function dispatchGrpcTrailingMetadata(token: u32, count: u32): void {
  const handler = grpcHandler(token);
  if (handler !== null) handler.onTrailingMetadata(count);
}

export function dispatchGrpcClose(token: u32, status: u32): void {
  const handler = grpcHandler(token);
  if (handler === null) return;
  grpcCalls.delete(token);
  handler.onClose(<GrpcStatusValues>status, get_status().message);
}
