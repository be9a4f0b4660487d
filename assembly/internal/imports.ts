// Host functions of Proxy-Wasm ABI 0.2.1 as Envoy (proxy-wasm-cpp-host) provides them.
// Every signature here must match ../shared/envoy-host/proxy-wasm-host.json exactly:
// Envoy links every declared import, even one a filter never calls.

type Ptr = usize;
type Size = usize;
type Result = u32;

// @ts-ignore: decorator
@external("env", "proxy_log")
export declare function proxy_log(level: u32, message: Ptr, size: Size): Result;
// @ts-ignore: decorator
@external("env", "proxy_get_log_level")
export declare function proxy_get_log_level(level_out: Ptr): Result;
// @ts-ignore: decorator
@external("env", "proxy_get_status")
export declare function proxy_get_status(code_out: Ptr, message_ptr_out: Ptr, message_size_out: Ptr): Result;

// @ts-ignore: decorator
@external("env", "proxy_set_tick_period_milliseconds")
export declare function proxy_set_tick_period_milliseconds(period: u32): Result;
// @ts-ignore: decorator
@external("env", "proxy_get_current_time_nanoseconds")
export declare function proxy_get_current_time_nanoseconds(nanos_out: Ptr): Result;

// @ts-ignore: decorator
@external("env", "proxy_get_property")
export declare function proxy_get_property(path: Ptr, path_size: Size, value_ptr_out: Ptr, value_size_out: Ptr): Result;
// @ts-ignore: decorator
@external("env", "proxy_set_property")
export declare function proxy_set_property(path: Ptr, path_size: Size, value: Ptr, value_size: Size): Result;

// @ts-ignore: decorator
@external("env", "proxy_continue_stream")
export declare function proxy_continue_stream(stream_type: u32): Result;
// @ts-ignore: decorator
@external("env", "proxy_close_stream")
export declare function proxy_close_stream(stream_type: u32): Result;
// @ts-ignore: decorator
@external("env", "proxy_send_local_response")
export declare function proxy_send_local_response(
  status: u32, details: Ptr, details_size: Size, body: Ptr, body_size: Size,
  header_pairs: Ptr, header_pairs_size: Size, grpc_status: i32): Result;

// @ts-ignore: decorator
@external("env", "proxy_get_shared_data")
export declare function proxy_get_shared_data(key: Ptr, key_size: Size, value_ptr_out: Ptr, value_size_out: Ptr, cas_out: Ptr): Result;
// @ts-ignore: decorator
@external("env", "proxy_set_shared_data")
export declare function proxy_set_shared_data(key: Ptr, key_size: Size, value: Ptr, value_size: Size, cas: u32): Result;

// @ts-ignore: decorator
@external("env", "proxy_register_shared_queue")
export declare function proxy_register_shared_queue(name: Ptr, name_size: Size, token_out: Ptr): Result;
// @ts-ignore: decorator
@external("env", "proxy_resolve_shared_queue")
export declare function proxy_resolve_shared_queue(vm_id: Ptr, vm_id_size: Size, name: Ptr, name_size: Size, token_out: Ptr): Result;
// @ts-ignore: decorator
@external("env", "proxy_dequeue_shared_queue")
export declare function proxy_dequeue_shared_queue(token: u32, data_ptr_out: Ptr, data_size_out: Ptr): Result;
// @ts-ignore: decorator
@external("env", "proxy_enqueue_shared_queue")
export declare function proxy_enqueue_shared_queue(token: u32, data: Ptr, data_size: Size): Result;

// @ts-ignore: decorator
@external("env", "proxy_get_header_map_value")
export declare function proxy_get_header_map_value(map: u32, key: Ptr, key_size: Size, value_ptr_out: Ptr, value_size_out: Ptr): Result;
// @ts-ignore: decorator
@external("env", "proxy_add_header_map_value")
export declare function proxy_add_header_map_value(map: u32, key: Ptr, key_size: Size, value: Ptr, value_size: Size): Result;
// @ts-ignore: decorator
@external("env", "proxy_replace_header_map_value")
export declare function proxy_replace_header_map_value(map: u32, key: Ptr, key_size: Size, value: Ptr, value_size: Size): Result;
// @ts-ignore: decorator
@external("env", "proxy_remove_header_map_value")
export declare function proxy_remove_header_map_value(map: u32, key: Ptr, key_size: Size): Result;
// @ts-ignore: decorator
@external("env", "proxy_get_header_map_pairs")
export declare function proxy_get_header_map_pairs(map: u32, pairs_ptr_out: Ptr, pairs_size_out: Ptr): Result;
// @ts-ignore: decorator
@external("env", "proxy_set_header_map_pairs")
export declare function proxy_set_header_map_pairs(map: u32, pairs: Ptr, pairs_size: Size): Result;
// @ts-ignore: decorator
@external("env", "proxy_get_header_map_size")
export declare function proxy_get_header_map_size(map: u32, size_out: Ptr): Result;

// @ts-ignore: decorator
@external("env", "proxy_get_buffer_status")
export declare function proxy_get_buffer_status(buffer: u32, length_out: Ptr, flags_out: Ptr): Result;
// @ts-ignore: decorator
@external("env", "proxy_get_buffer_bytes")
export declare function proxy_get_buffer_bytes(buffer: u32, start: u32, length: u32, data_ptr_out: Ptr, data_size_out: Ptr): Result;
// @ts-ignore: decorator
@external("env", "proxy_set_buffer_bytes")
export declare function proxy_set_buffer_bytes(buffer: u32, start: u32, length: u32, data: Ptr, data_size: Size): Result;

// @ts-ignore: decorator
@external("env", "proxy_http_call")
export declare function proxy_http_call(
  cluster: Ptr, cluster_size: Size, header_pairs: Ptr, header_pairs_size: Size, body: Ptr, body_size: Size,
  trailer_pairs: Ptr, trailer_pairs_size: Size, timeout_ms: u32, token_out: Ptr): Result;

// @ts-ignore: decorator
@external("env", "proxy_grpc_call")
export declare function proxy_grpc_call(
  service: Ptr, service_size: Size, service_name: Ptr, service_name_size: Size, method: Ptr, method_size: Size,
  metadata_pairs: Ptr, metadata_pairs_size: Size, request: Ptr, request_size: Size, timeout_ms: u32, token_out: Ptr): Result;
// @ts-ignore: decorator
@external("env", "proxy_grpc_stream")
export declare function proxy_grpc_stream(
  service: Ptr, service_size: Size, service_name: Ptr, service_name_size: Size, method: Ptr, method_size: Size,
  metadata_pairs: Ptr, metadata_pairs_size: Size, token_out: Ptr): Result;
// @ts-ignore: decorator
@external("env", "proxy_grpc_send")
export declare function proxy_grpc_send(token: u32, message: Ptr, message_size: Size, end_stream: u32): Result;
// @ts-ignore: decorator
@external("env", "proxy_grpc_cancel")
export declare function proxy_grpc_cancel(token: u32): Result;
// @ts-ignore: decorator
@external("env", "proxy_grpc_close")
export declare function proxy_grpc_close(token: u32): Result;

// @ts-ignore: decorator
@external("env", "proxy_define_metric")
export declare function proxy_define_metric(type: u32, name: Ptr, name_size: Size, id_out: Ptr): Result;
// @ts-ignore: decorator
@external("env", "proxy_increment_metric")
export declare function proxy_increment_metric(id: u32, offset: i64): Result;
// @ts-ignore: decorator
@external("env", "proxy_record_metric")
export declare function proxy_record_metric(id: u32, value: u64): Result;
// @ts-ignore: decorator
@external("env", "proxy_get_metric")
export declare function proxy_get_metric(id: u32, value_out: Ptr): Result;

// @ts-ignore: decorator
@external("env", "proxy_set_effective_context")
export declare function proxy_set_effective_context(context_id: u32): Result;
// @ts-ignore: decorator
@external("env", "proxy_done")
export declare function proxy_done(): Result;
// @ts-ignore: decorator
@external("env", "proxy_call_foreign_function")
export declare function proxy_call_foreign_function(
  name: Ptr, name_size: Size, args: Ptr, args_size: Size, results_ptr_out: Ptr, results_size_out: Ptr): Result;

// WASI, tier T1 only: available in every Envoy release since 1.21.
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "random_get")
export declare function wasi_random_get(buf: Ptr, len: Size): u32;
