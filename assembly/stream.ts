import { proxy_close_stream, proxy_continue_stream, proxy_send_local_response } from "./internal/imports";
import { encode1, aPtr, aLen } from "./internal/utf8";
import { GrpcStatusValues, StreamTypeValues, WasmResultValues } from "./enums";
import { Headers, serializeHeaders } from "./pairs";

/** Resumes a request the filter paused (after a callout, for example). */
export function continue_request(): WasmResultValues {
  return <WasmResultValues>proxy_continue_stream(<u32>StreamTypeValues.Request);
}

/** Resumes a response the filter paused. */
export function continue_response(): WasmResultValues {
  return <WasmResultValues>proxy_continue_stream(<u32>StreamTypeValues.Response);
}

/** Resets the stream (Envoy sends no reply; the client sees the connection reset). */
export function close_request(): WasmResultValues {
  return <WasmResultValues>proxy_close_stream(<u32>StreamTypeValues.Request);
}

export function close_response(): WasmResultValues {
  return <WasmResultValues>proxy_close_stream(<u32>StreamTypeValues.Response);
}

/**
 * Answers the client directly. Takes effect when the current callback returns; sent while the
 * request is processed, the reply still passes through this filter's response callbacks.
 * `grpc_status` InvalidCode (-1) sends no grpc-status.
 */
export function send_local_response(status: u32, details: string, body: ArrayBuffer, headers: Headers,
  grpc_status: GrpcStatusValues = GrpcStatusValues.InvalidCode): WasmResultValues {
  encode1(details);
  if (headers.length == 0) {
    // The usual reply adds no headers: nothing to serialize, nothing to allocate.
    return <WasmResultValues>proxy_send_local_response(status, aPtr, aLen, changetype<usize>(body), body.byteLength,
      NO_PAIRS, 4, <i32>grpc_status);
  }
  const pairs = serializeHeaders(headers);
  return <WasmResultValues>proxy_send_local_response(status, aPtr, aLen, changetype<usize>(body), body.byteLength,
    changetype<usize>(pairs), pairs.byteLength, <i32>grpc_status);
}

/** An empty header list in the pairs encoding (a count of 0). */
const NO_PAIRS: usize = memory.data(4);

/** send_local_response with a text body. */
export function sendLocalResponse(status: u32, body: string, headers: Headers = [], details: string = "",
  grpc_status: GrpcStatusValues = GrpcStatusValues.InvalidCode): WasmResultValues {
  return send_local_response(status, details, String.UTF8.encode(body), headers, grpc_status);
}
