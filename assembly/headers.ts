import {
  proxy_add_header_map_value, proxy_get_header_map_pairs, proxy_get_header_map_size, proxy_get_header_map_value,
  proxy_remove_header_map_value, proxy_replace_header_map_value, proxy_set_header_map_pairs,
} from "./internal/imports";
import { OUT_PTR, OUT_SIZE, OUT_WORD, resetReturned, takeReturnedBytes, takeReturnedString } from "./internal/memory";
import { encode1, encode2, aPtr, aLen, bPtr, bLen } from "./internal/utf8";
import { HeaderMapTypeValues, WasmResultValues } from "./enums";
import { Headers, HeaderPairsView, serializeHeaders } from "./pairs";

/** The value of `key` in `map`, or null when absent or the map is not accessible now. */
export function getHeader(map: HeaderMapTypeValues, key: string): string | null {
  encode1(key);
  resetReturned();
  const result = proxy_get_header_map_value(<u32>map, aPtr, aLen, OUT_PTR, OUT_SIZE);
  if (result != WasmResultValues.Ok) return null;
  return takeReturnedString();
}

export function addHeader(map: HeaderMapTypeValues, key: string, value: string): WasmResultValues {
  encode2(key, value);
  return <WasmResultValues>proxy_add_header_map_value(<u32>map, aPtr, aLen, bPtr, bLen);
}

/** Sets `key` to the single value `value`, removing any earlier values. */
export function replaceHeader(map: HeaderMapTypeValues, key: string, value: string): WasmResultValues {
  encode2(key, value);
  return <WasmResultValues>proxy_replace_header_map_value(<u32>map, aPtr, aLen, bPtr, bLen);
}

export function removeHeader(map: HeaderMapTypeValues, key: string): WasmResultValues {
  encode1(key);
  return <WasmResultValues>proxy_remove_header_map_value(<u32>map, aPtr, aLen);
}

/** All entries of `map`, decoded lazily; empty when the map is not accessible now. */
export function getHeaderPairs(map: HeaderMapTypeValues): HeaderPairsView {
  resetReturned();
  const result = proxy_get_header_map_pairs(<u32>map, OUT_PTR, OUT_SIZE);
  if (result != WasmResultValues.Ok) return new HeaderPairsView(new ArrayBuffer(0));
  return new HeaderPairsView(takeReturnedBytes());
}

/** Replaces every entry of `map` with `headers`. */
export function setHeaderPairs(map: HeaderMapTypeValues, headers: Headers): WasmResultValues {
  const buffer = serializeHeaders(headers);
  return <WasmResultValues>proxy_set_header_map_pairs(<u32>map, changetype<usize>(buffer), buffer.byteLength);
}

/** Envoy's byte size of the map (keys and values), or 0 when it is not accessible. */
export function getHeaderMapByteSize(map: HeaderMapTypeValues): usize {
  store<usize>(OUT_WORD, 0);
  if (proxy_get_header_map_size(<u32>map, OUT_WORD) != WasmResultValues.Ok) return 0;
  return load<usize>(OUT_WORD);
}

/** The raw bytes of `key` in `map` (compatibility with @solo-io/proxy-runtime); empty when absent. */
export function get_header_map_value(map: HeaderMapTypeValues, key: ArrayBuffer): ArrayBuffer {
  resetReturned();
  const result = proxy_get_header_map_value(<u32>map, changetype<usize>(key), key.byteLength, OUT_PTR, OUT_SIZE);
  if (result != WasmResultValues.Ok) return new ArrayBuffer(0);
  return takeReturnedBytes();
}

/** One header map of the current stream or callout. */
export class HeaderMap {
  constructor(readonly type: HeaderMapTypeValues) {}

  /** The value of `key`, or "" when absent (as @solo-io/proxy-runtime). */
  get(key: string): string {
    const value = getHeader(this.type, key);
    return value === null ? "" : value;
  }

  /** The value of `key`, or null when absent. */
  getOrNull(key: string): string | null { return getHeader(this.type, key); }

  has(key: string): bool { return getHeader(this.type, key) !== null; }

  add(key: string, value: string): WasmResultValues { return addHeader(this.type, key, value); }

  replace(key: string, value: string): WasmResultValues { return replaceHeader(this.type, key, value); }

  remove(key: string): WasmResultValues { return removeHeader(this.type, key); }

  /** Every entry, decoded only as far as the filter reads it. */
  pairs(): HeaderPairsView { return getHeaderPairs(this.type); }

  /** Every entry as bytes (as @solo-io/proxy-runtime). */
  get_headers(): Headers { return getHeaderPairs(this.type).toHeaders(); }

  set_headers(headers: Headers): WasmResultValues { return setHeaderPairs(this.type, headers); }

  byteSize(): usize { return getHeaderMapByteSize(this.type); }
}

export class HeaderMapManipulator {
  constructor(public request: HeaderMap, public response: HeaderMap, public http_callback: HeaderMap) {}
}

export class GrpcMetadataMaps {
  constructor(public initial: HeaderMap, public trailing: HeaderMap) {}
}

/** Header maps of the stream being processed (use the global `stream_context`). */
export class StreamContext {
  constructor(public headers: HeaderMapManipulator, public trailers: HeaderMapManipulator, public grpc_metadata: GrpcMetadataMaps) {}
}

export const stream_context = new StreamContext(
  new HeaderMapManipulator(
    new HeaderMap(HeaderMapTypeValues.RequestHeaders),
    new HeaderMap(HeaderMapTypeValues.ResponseHeaders),
    new HeaderMap(HeaderMapTypeValues.HttpCallResponseHeaders)),
  new HeaderMapManipulator(
    new HeaderMap(HeaderMapTypeValues.RequestTrailers),
    new HeaderMap(HeaderMapTypeValues.ResponseTrailers),
    new HeaderMap(HeaderMapTypeValues.HttpCallResponseTrailers)),
  new GrpcMetadataMaps(
    new HeaderMap(HeaderMapTypeValues.GrpcReceiveInitialMetadata),
    new HeaderMap(HeaderMapTypeValues.GrpcReceiveTrailingMetadata)));

/**
 * Why `name` cannot be a header name Envoy stores ("" when it can): an HTTP token (RFC 9110)
 * in lower case, or a pseudo-header such as ":path".
 */
export function headerNameProblem(name: string): string {
  if (name.length == 0) return "header name is empty";
  const start = name.charCodeAt(0) == 58 ? 1 : 0;
  if (start == 1 && name.length == 1) return "header name \":\" is incomplete";
  for (let i = start; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) return "header name \"" + name + "\" has upper-case letters; Envoy stores names in lower case";
    const token = (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 33 || (c >= 35 && c <= 39) || c == 42 ||
      c == 43 || c == 45 || c == 46 || c == 94 || c == 95 || c == 96 || c == 124 || c == 126;
    if (!token) return "header name \"" + name + "\" has a character not allowed in header names at position " + i.toString();
  }
  return "";
}

/** Why `value` cannot be a header value ("" when it can): no NUL, CR or LF. */
export function headerValueProblem(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c == 0 || c == 10 || c == 13) return "header value has a NUL, CR or LF character at position " + i.toString();
  }
  return "";
}

/**
 * Lower-cases ASCII letters only: header names are ASCII, and String#toLowerCase brings
 * Unicode case tables (kilobytes) into the module.
 */
export function asciiLowerCase(text: string): string {
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c >= 65 && c <= 90) break;
    i++;
  }
  if (i == text.length) return text;
  let out = text.substring(0, i);
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    out += String.fromCharCode(c >= 65 && c <= 90 ? c + 32 : c);
  }
  return out;
}
