// The pairs encoding of header maps: u32 count, count * (u32 key_size, u32 value_size),
// then each key and value followed by NUL, little-endian.

import { bytesToText, textToBytes } from './bytes.js';

export type HeaderList = [string, string][];

/** Headers as a test writes them (an object or pairs, values as text or bytes), as a lower-cased list. */
export function headerList(h: Record<string, string | Uint8Array> | [string, string | Uint8Array][] | undefined): HeaderList {
  if (!h) return [];
  return (Array.isArray(h) ? h : Object.entries(h)).map(([k, v]) => [k.toLowerCase(), v instanceof Uint8Array ? bytesToText(v) : String(v)]);
}

/** Removes the first `name` header from `headers` and returns its value (a control header the router consumes). */
export function takeHeader(headers: HeaderList, name: string): string | undefined {
  const at = headers.findIndex(([k]) => k === name);
  if (at < 0) return undefined;
  const value = headers[at][1];
  headers.splice(at, 1);
  return value;
}

/** Envoy's limits: a larger or longer pairs buffer is treated as empty. */
export const PAIRS_MAX_BYTES = 1 << 20;
export const PAIRS_MAX_COUNT = 1024;

export function encodePairs(pairs: HeaderList): Uint8Array {
  const encoded = pairs.map(([k, v]) => [textToBytes(k), textToBytes(v)] as const);
  let size = 4 + encoded.length * 8;
  for (const [k, v] of encoded) size += k.length + v.length + 2;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, encoded.length, true);
  let offset = 4 + encoded.length * 8;
  encoded.forEach(([k, v], i) => {
    view.setUint32(4 + i * 8, k.length, true);
    view.setUint32(8 + i * 8, v.length, true);
    out.set(k, offset);
    offset += k.length + 1;
    out.set(v, offset);
    offset += v.length + 1;
  });
  return out;
}

/** Decodes a pairs buffer; null when it is malformed or over Envoy's limits. */
export function decodePairs(bytes: Uint8Array): HeaderList | null {
  if (bytes.length === 0) return [];
  if (bytes.length < 4 || bytes.length > PAIRS_MAX_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  if (count > PAIRS_MAX_COUNT || 4 + count * 8 > bytes.length) return null;
  const out: HeaderList = [];
  let offset = 4 + count * 8;
  for (let i = 0; i < count; i++) {
    const k = view.getUint32(4 + i * 8, true);
    const v = view.getUint32(8 + i * 8, true);
    if (offset + k + v + 2 > bytes.length) return null;
    const key = bytesToText(bytes.subarray(offset, offset + k));
    offset += k + 1;
    const value = bytesToText(bytes.subarray(offset, offset + v));
    offset += v + 1;
    out.push([key, value]);
  }
  return out;
}
