// The module's side of the ABI: every function Envoy looks up in a Proxy-Wasm 0.2.1 module.
// A filter re-exports all of it with `export * from "wasm-filter-kit/assembly/proxy"`.
import "./internal/abort";
import { hostAlloc } from "./internal/memory";
import { enterCallback, leaveCallback } from "./internal/collector";
import {
  dispatchGrpcClose, dispatchGrpcInitialMetadata, dispatchGrpcMessage, dispatchGrpcTrailingMetadata, dispatchHttpCallResponse,
} from "./internal/callouts";
import { createRootContext, createStreamContext, deleteContext, getBaseContext, getContext, getRootContext } from "./internal/registry";
import { BufferTypeValues } from "./enums";
import { get_buffer_bytes } from "./buffers";
import { getPropertyString } from "./properties";
import { markHostCallbacksStarted } from "./log";

export function proxy_abi_version_0_2_1(): void {}

/** The allocator Envoy uses to hand data to the module. */
export function malloc(size: usize): usize { return hostAlloc(size); }
export function proxy_on_memory_allocate(size: usize): usize { return hostAlloc(size); }

export function proxy_on_context_create(context_id: u32, parent_context_id: u32): void {
  enterCallback();
  if (parent_context_id == 0) {
    markHostCallbacksStarted();
    const rootId = getPropertyString(["plugin_root_id"]);
    createRootContext(context_id, rootId === null ? "" : rootId);
  } else {
    createStreamContext(context_id, parent_context_id);
  }
  leaveCallback();
}

export function proxy_on_vm_start(root_context_id: u32, vm_configuration_size: u32): u32 {
  enterCallback();
  const result: u32 = getRootContext(root_context_id).onStart(vm_configuration_size) ? 1 : 0;
  leaveCallback();
  return result;
}

export function proxy_validate_configuration(root_context_id: u32, configuration_size: u32): u32 {
  enterCallback();
  const result: u32 = getRootContext(root_context_id).validateConfiguration(configuration_size) ? 1 : 0;
  leaveCallback();
  return result;
}

export function proxy_on_configure(root_context_id: u32, configuration_size: u32): u32 {
  enterCallback();
  const root = getRootContext(root_context_id);
  root.setConfiguration(get_buffer_bytes(BufferTypeValues.PluginConfiguration, 0, configuration_size));
  const result: u32 = root.onConfigure(configuration_size) ? 1 : 0;
  leaveCallback();
  return result;
}

export function proxy_on_tick(root_context_id: u32): void {
  enterCallback();
  getRootContext(root_context_id).onTick();
  leaveCallback();
}

export function proxy_on_queue_ready(root_context_id: u32, token: u32): void {
  enterCallback();
  getRootContext(root_context_id).onQueueReady(token);
  leaveCallback();
}

export function proxy_on_foreign_function(root_context_id: u32, function_id: u32, data_size: u32): void {
  enterCallback();
  getRootContext(root_context_id).onForeignFunction(function_id, data_size);
  leaveCallback();
}

export function proxy_on_request_headers(context_id: u32, headers: u32, end_of_stream: u32): u32 {
  enterCallback();
  const result: u32 = <u32>getContext(context_id).onRequestHeaders(headers, end_of_stream != 0);
  leaveCallback();
  return result;
}

export function proxy_on_request_body(context_id: u32, body_size: u32, end_of_stream: u32): u32 {
  enterCallback();
  const result: u32 = <u32>getContext(context_id).onRequestBody(body_size, end_of_stream != 0);
  leaveCallback();
  return result;
}

export function proxy_on_request_trailers(context_id: u32, trailers: u32): u32 {
  enterCallback();
  const result: u32 = <u32>getContext(context_id).onRequestTrailers(trailers);
  leaveCallback();
  return result;
}

export function proxy_on_request_metadata(context_id: u32, elements: u32): u32 {
  enterCallback();
  const result: u32 = <u32>getContext(context_id).onRequestMetadata(elements);
  leaveCallback();
  return result;
}

export function proxy_on_response_headers(context_id: u32, headers: u32, end_of_stream: u32): u32 {
  enterCallback();
  const result: u32 = <u32>getContext(context_id).onResponseHeaders(headers, end_of_stream != 0);
  leaveCallback();
  return result;
}

export function proxy_on_response_body(context_id: u32, body_size: u32, end_of_stream: u32): u32 {
  enterCallback();
  const result: u32 = <u32>getContext(context_id).onResponseBody(body_size, end_of_stream != 0);
  leaveCallback();
  return result;
}

export function proxy_on_response_trailers(context_id: u32, trailers: u32): u32 {
  enterCallback();
  const result: u32 = <u32>getContext(context_id).onResponseTrailers(trailers);
  leaveCallback();
  return result;
}

export function proxy_on_response_metadata(context_id: u32, elements: u32): u32 {
  enterCallback();
  const result: u32 = <u32>getContext(context_id).onResponseMetadata(elements);
  leaveCallback();
  return result;
}

export function proxy_on_new_connection(context_id: u32): u32 {
  enterCallback();
  const result: u32 = <u32>getContext(context_id).onNewConnection();
  leaveCallback();
  return result;
}

export function proxy_on_downstream_data(context_id: u32, data_size: u32, end_of_stream: u32): u32 {
  enterCallback();
  const result: u32 = <u32>getContext(context_id).onDownstreamData(data_size, end_of_stream != 0);
  leaveCallback();
  return result;
}

export function proxy_on_upstream_data(context_id: u32, data_size: u32, end_of_stream: u32): u32 {
  enterCallback();
  const result: u32 = <u32>getContext(context_id).onUpstreamData(data_size, end_of_stream != 0);
  leaveCallback();
  return result;
}

export function proxy_on_downstream_connection_close(context_id: u32, peer_type: u32): void {
  enterCallback();
  getContext(context_id).onDownstreamConnectionClose(peer_type);
  leaveCallback();
}

export function proxy_on_upstream_connection_close(context_id: u32, peer_type: u32): void {
  enterCallback();
  getContext(context_id).onUpstreamConnectionClose(peer_type);
  leaveCallback();
}

export function proxy_on_http_call_response(context_id: u32, token: u32, headers: u32, body_size: u32, trailers: u32): void {
  enterCallback();
  dispatchHttpCallResponse(token, headers, body_size, trailers);
  leaveCallback();
}

export function proxy_on_grpc_receive_initial_metadata(context_id: u32, token: u32, headers: u32): void {
  enterCallback();
  dispatchGrpcInitialMetadata(token, headers);
  leaveCallback();
}

export function proxy_on_grpc_receive(context_id: u32, token: u32, response_size: u32): void {
  enterCallback();
  dispatchGrpcMessage(token, get_buffer_bytes(BufferTypeValues.GrpcReceiveBuffer, 0, response_size));
  leaveCallback();
}

export function proxy_on_grpc_receive_trailing_metadata(context_id: u32, token: u32, trailers: u32): void {
  enterCallback();
  dispatchGrpcTrailingMetadata(token, trailers);
  leaveCallback();
}

export function proxy_on_grpc_close(context_id: u32, token: u32, status_code: u32): void {
  enterCallback();
  dispatchGrpcClose(token, status_code);
  leaveCallback();
}

export function proxy_on_done(context_id: u32): u32 {
  enterCallback();
  const result: u32 = getBaseContext(context_id).onDone() ? 1 : 0;
  leaveCallback();
  return result;
}

export function proxy_on_log(context_id: u32): void {
  enterCallback();
  getContext(context_id).onLog();
  leaveCallback();
}

export function proxy_on_delete(context_id: u32): void {
  enterCallback();
  getBaseContext(context_id).onDelete();
  deleteContext(context_id);
  leaveCallback();
}
