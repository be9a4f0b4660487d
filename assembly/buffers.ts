import { proxy_get_buffer_bytes, proxy_get_buffer_status, proxy_set_buffer_bytes } from "./internal/imports";
import { OUT_PTR, OUT_SIZE, OUT_WORD, resetReturned, takeReturnedBytes, takeReturnedString } from "./internal/memory";
import { BufferTypeValues, WasmResultValues } from "./enums";

/** Bytes [start, start+length) of a buffer (body, callout response, configuration); empty when unavailable. */
export function get_buffer_bytes(buffer: BufferTypeValues, start: u32, length: u32): ArrayBuffer {
  if (length == 0) return new ArrayBuffer(0);
  resetReturned();
  if (proxy_get_buffer_bytes(<u32>buffer, start, length, OUT_PTR, OUT_SIZE) != WasmResultValues.Ok) {
    return new ArrayBuffer(0);
  }
  return takeReturnedBytes();
}

/** The same bytes decoded as UTF-8. */
export function getBufferString(buffer: BufferTypeValues, start: u32, length: u32): string {
  if (length == 0) return "";
  resetReturned();
  if (proxy_get_buffer_bytes(<u32>buffer, start, length, OUT_PTR, OUT_SIZE) != WasmResultValues.Ok) return "";
  return takeReturnedString();
}

/**
 * Replaces bytes of a buffer, with Envoy's rules: start=0 replaces the first `length` bytes
 * (length 0 prepends, length >= size replaces all); start >= size appends; anything else is
 * BadArgument.
 */
export function set_buffer_bytes(buffer: BufferTypeValues, start: u32, length: u32, data: ArrayBuffer): WasmResultValues {
  return <WasmResultValues>proxy_set_buffer_bytes(<u32>buffer, start, length, changetype<usize>(data), data.byteLength);
}

export function setBufferString(buffer: BufferTypeValues, start: u32, length: u32, data: string): WasmResultValues {
  return set_buffer_bytes(buffer, start, length, String.UTF8.encode(data));
}

export class BufferStatusResult {
  constructor(public result: WasmResultValues, public length: usize, public flags: u32) {}
}

export function get_buffer_status(buffer: BufferTypeValues): BufferStatusResult {
  store<usize>(OUT_SIZE, 0);
  store<u32>(OUT_WORD, 0);
  const result = <WasmResultValues>proxy_get_buffer_status(<u32>buffer, OUT_SIZE, OUT_WORD);
  return new BufferStatusResult(result, load<usize>(OUT_SIZE), load<u32>(OUT_WORD));
}
