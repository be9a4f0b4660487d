// The pairs encoding the ABI uses for header maps, metadata and map properties:
//   u32 count, count * (u32 key_size, u32 value_size), then each key and value followed by NUL.
import { decodeUtf8Lossy } from "./internal/utf8";

/** One header or metadata entry, as bytes (the host's view: values need not be UTF-8). */
export class HeaderPair {
  constructor(public key: ArrayBuffer, public value: ArrayBuffer) {}

  static of(key: string, value: string): HeaderPair {
    return new HeaderPair(String.UTF8.encode(key), String.UTF8.encode(value));
  }

  keyString(): string { return decodeUtf8Lossy(changetype<usize>(this.key), this.key.byteLength); }
  valueString(): string { return decodeUtf8Lossy(changetype<usize>(this.value), this.value.byteLength); }

  toString(): string { return this.keyString() + ":" + this.valueString(); }
}

export type Headers = Array<HeaderPair>;

/** Serializes pairs for proxy_set_header_map_pairs, http calls, local replies and metadata. */
export function serializeHeaders(headers: Headers): ArrayBuffer {
  let size: i32 = 4;
  for (let i = 0; i < headers.length; i++) {
    size += 8 + headers[i].key.byteLength + headers[i].value.byteLength + 2;
  }
  const out = new ArrayBuffer(size);
  const base = changetype<usize>(out);
  store<u32>(base, headers.length);
  let data = base + 4 + <usize>headers.length * 8;
  for (let i = 0; i < headers.length; i++) {
    const pair = headers[i];
    const k = pair.key.byteLength;
    const v = pair.value.byteLength;
    store<u32>(base + 4 + <usize>i * 8, k);
    store<u32>(base + 8 + <usize>i * 8, v);
    memory.copy(data, changetype<usize>(pair.key), k);
    data += k;
    store<u8>(data++, 0);
    memory.copy(data, changetype<usize>(pair.value), v);
    data += v;
    store<u8>(data++, 0);
  }
  return out;
}

/**
 * A pairs buffer read lazily: only the entries a filter touches are decoded, each at most once.
 * A malformed buffer (sizes that run past its end) reads as empty.
 */
export class HeaderPairsView {
  private readonly buffer: ArrayBuffer;
  readonly count: i32;
  private keyOffsets: StaticArray<u32>;
  private valueOffsets: StaticArray<u32>;
  private keys: StaticArray<string | null>;
  private values: StaticArray<string | null>;

  constructor(buffer: ArrayBuffer) {
    this.buffer = buffer;
    const base = changetype<usize>(buffer);
    const total = <usize>buffer.byteLength;
    let count: i32 = total >= 4 ? <i32>load<u32>(base) : 0;
    if (<usize>count * 8 + 4 > total || count < 0) count = 0;
    const keyOffsets = new StaticArray<u32>(count);
    const valueOffsets = new StaticArray<u32>(count);
    let offset: usize = 4 + <usize>count * 8;
    for (let i = 0; i < count; i++) {
      const k = <usize>load<u32>(base + 4 + <usize>i * 8);
      const v = <usize>load<u32>(base + 8 + <usize>i * 8);
      unchecked(keyOffsets[i] = <u32>offset);
      offset += k + 1;
      unchecked(valueOffsets[i] = <u32>offset);
      offset += v + 1;
      if (offset > total) { count = 0; break; }
    }
    this.count = count;
    this.keyOffsets = keyOffsets;
    this.valueOffsets = valueOffsets;
    this.keys = new StaticArray<string | null>(count);
    this.values = new StaticArray<string | null>(count);
  }

  private sizeAt(slot: i32): usize {
    return <usize>load<u32>(changetype<usize>(this.buffer) + 4 + <usize>slot * 4);
  }

  key(i: i32): string {
    let s = this.keys[i];
    if (s === null) {
      s = decodeUtf8Lossy(changetype<usize>(this.buffer) + unchecked(this.keyOffsets[i]), this.sizeAt(i * 2));
      this.keys[i] = s;
    }
    return s;
  }

  value(i: i32): string {
    let s = this.values[i];
    if (s === null) {
      s = decodeUtf8Lossy(changetype<usize>(this.buffer) + unchecked(this.valueOffsets[i]), this.sizeAt(i * 2 + 1));
      this.values[i] = s;
    }
    return s;
  }

  keyBytes(i: i32): ArrayBuffer {
    const start = <i32>unchecked(this.keyOffsets[i]);
    return this.buffer.slice(start, start + <i32>this.sizeAt(i * 2));
  }

  valueBytes(i: i32): ArrayBuffer {
    const start = <i32>unchecked(this.valueOffsets[i]);
    return this.buffer.slice(start, start + <i32>this.sizeAt(i * 2 + 1));
  }

  /** The first value stored under `name` (exact, case-sensitive: the host lower-cases header names). */
  get(name: string): string | null {
    for (let i = 0; i < this.count; i++) {
      if (this.key(i) == name) return this.value(i);
    }
    return null;
  }

  /** Every value stored under `name`, in order. */
  getAll(name: string): string[] {
    const out = new Array<string>();
    for (let i = 0; i < this.count; i++) {
      if (this.key(i) == name) out.push(this.value(i));
    }
    return out;
  }

  toHeaders(): Headers {
    const out = new Array<HeaderPair>(this.count);
    for (let i = 0; i < this.count; i++) {
      unchecked(out[i] = new HeaderPair(this.keyBytes(i), this.valueBytes(i)));
    }
    return out;
  }
}

export function deserializeHeaders(buffer: ArrayBuffer): Headers {
  return new HeaderPairsView(buffer).toHeaders();
}
