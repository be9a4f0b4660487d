import { decodeUtf8Lossy } from "./internal/utf8";
import { proxy_get_property, proxy_set_property } from "./internal/imports";
import { OUT_PTR, OUT_SIZE, resetReturned, takeReturnedBytes } from "./internal/memory";
import { WasmResultValues } from "./enums";
import { HeaderPairsView } from "./pairs";

// Envoy attributes (request.path, xds.node, plugin_root_id, ...) are addressed by a path of
// segments joined with NUL. Values come in Envoy's encodings: strings raw, int/uint/double as
// 8 bytes little-endian, bool as one byte, maps in the pairs encoding, messages as protobuf.

/** Joins path segments the way the host expects: ["request", "path"] -> "request\0path". */
export function propertyPath(segments: string[]): string {
  return segments.join("\0");
}

/** The raw value at `path` (segments), or null when the host has no such attribute. */
export function getProperty(path: string[]): ArrayBuffer | null {
  const encoded = String.UTF8.encode(propertyPath(path));
  resetReturned();
  const result = proxy_get_property(changetype<usize>(encoded), encoded.byteLength, OUT_PTR, OUT_SIZE);
  if (result != WasmResultValues.Ok) return null;
  return takeReturnedBytes();
}

export function getPropertyString(path: string[]): string | null {
  const raw = getProperty(path);
  return raw === null ? null : decodeUtf8Lossy(changetype<usize>(raw), raw.byteLength);
}

function eightBytes(path: string[]): ArrayBuffer | null {
  const raw = getProperty(path);
  return raw !== null && raw.byteLength == 8 ? raw : null;
}

/** An `int` attribute (e.g. response.code, source.port); `fallback` when absent or not 8 bytes. */
export function getPropertyInt64(path: string[], fallback: i64 = 0): i64 {
  const raw = eightBytes(path);
  return raw === null ? fallback : load<i64>(changetype<usize>(raw));
}

/** A `uint` attribute (e.g. connection.id). */
export function getPropertyUint64(path: string[], fallback: u64 = 0): u64 {
  const raw = eightBytes(path);
  return raw === null ? fallback : load<u64>(changetype<usize>(raw));
}

/** A `double` attribute. */
export function getPropertyDouble(path: string[], fallback: f64 = 0): f64 {
  const raw = eightBytes(path);
  return raw === null ? fallback : load<f64>(changetype<usize>(raw));
}

/** A `bool` attribute (e.g. connection.mtls). */
export function getPropertyBool(path: string[], fallback: bool = false): bool {
  const raw = getProperty(path);
  return raw === null || raw.byteLength != 1 ? fallback : load<u8>(changetype<usize>(raw)) != 0;
}

/** A timestamp or duration attribute, in nanoseconds. */
export function getPropertyNanos(path: string[], fallback: i64 = 0): i64 {
  return getPropertyInt64(path, fallback);
}

/** A map attribute (e.g. request.headers) in the pairs encoding; null when absent. */
export function getPropertyPairs(path: string[]): HeaderPairsView | null {
  const raw = getProperty(path);
  return raw === null ? null : new HeaderPairsView(raw);
}

/** Stores a value in the stream's filter state as `wasm.<path>`; NotFound outside a stream. */
export function setProperty(path: string[], value: ArrayBuffer): WasmResultValues {
  const encoded = String.UTF8.encode(propertyPath(path));
  return <WasmResultValues>proxy_set_property(changetype<usize>(encoded), encoded.byteLength, changetype<usize>(value), value.byteLength);
}

export function setPropertyString(path: string[], value: string): WasmResultValues {
  return setProperty(path, String.UTF8.encode(value));
}

/**
 * @solo-io/proxy-runtime's accessor: `path` is passed to the host as written (use "\0" between
 * segments). Returns an empty buffer when absent, instead of aborting as that package did.
 */
export function get_property(path: string): ArrayBuffer {
  const encoded = String.UTF8.encode(path);
  resetReturned();
  if (proxy_get_property(changetype<usize>(encoded), encoded.byteLength, OUT_PTR, OUT_SIZE) != WasmResultValues.Ok) {
    return new ArrayBuffer(0);
  }
  return takeReturnedBytes();
}

export function set_property(path: string, value: ArrayBuffer): WasmResultValues {
  const encoded = String.UTF8.encode(path);
  return <WasmResultValues>proxy_set_property(changetype<usize>(encoded), encoded.byteLength, changetype<usize>(value), value.byteLength);
}

