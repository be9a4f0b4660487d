// Envoy's attributes as proxy_get_property returns them: strings raw, int/uint/double as 8
// bytes little-endian, bool as one byte, timestamps and durations as int64 nanoseconds, maps
// in the pairs encoding, messages (xds.node) as serialized protobuf.
import { bytesToText, textToBytes } from './bytes.js';
import { encodePairs } from './pairs.js';

export type AttributeValue = Uint8Array;

const encoder = new TextEncoder();

export const encode = {
  // Header-derived values keep their raw bytes (carried as U+DC80..U+DCFF, see bytes.ts).
  string: (s: string): Uint8Array => textToBytes(s),
  int: (n: number | bigint): Uint8Array => {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigInt64(0, BigInt(n), true);
    return out;
  },
  uint: (n: number | bigint): Uint8Array => {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
    return out;
  },
  double: (n: number): Uint8Array => {
    const out = new Uint8Array(8);
    new DataView(out.buffer).setFloat64(0, n, true);
    return out;
  },
  bool: (b: boolean): Uint8Array => Uint8Array.of(b ? 1 : 0),
  /** Timestamps and durations: int64 nanoseconds. */
  nanos: (ms: number): Uint8Array => encode.int(BigInt(Math.round(ms * 1e6))),
  map: (entries: [string, string][]): Uint8Array => encodePairs(entries),
};

// ---- protobuf, for xds.node and metadata -----------------------------------------------------

class ProtoWriter {
  private readonly parts: number[] = [];
  varint(v: number | bigint): this {
    let n = BigInt.asUintN(64, BigInt(v));
    while (n >= 0x80n) { this.parts.push(Number(n & 0x7fn) | 0x80); n >>= 7n; }
    this.parts.push(Number(n));
    return this;
  }
  tag(field: number, wire: number): this { return this.varint((field << 3) | wire); }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    for (const x of b) this.parts.push(x);
    return this;
  }
  string(field: number, s: string): this { return s ? this.bytes(field, encoder.encode(s)) : this; }
  double(field: number, n: number): this {
    this.tag(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, n, true);
    for (const x of b) this.parts.push(x);
    return this;
  }
  bool(field: number, v: boolean): this { return this.tag(field, 0).varint(v ? 1 : 0); }
  finish(): Uint8Array { return Uint8Array.from(this.parts); }
}

/** google.protobuf.Value */
function protoValue(v: unknown): Uint8Array {
  const w = new ProtoWriter();
  if (v === null || v === undefined) w.tag(1, 0).varint(0);
  else if (typeof v === 'number') w.double(2, v);
  else if (typeof v === 'string') w.bytes(3, encoder.encode(v));
  else if (typeof v === 'boolean') w.bool(4, v);
  else if (Array.isArray(v)) {
    const list = new ProtoWriter();
    for (const item of v) list.bytes(1, protoValue(item));
    w.bytes(6, list.finish());
  } else w.bytes(5, protoStruct(v as Record<string, unknown>));
  return w.finish();
}

/** google.protobuf.Struct */
export function protoStruct(obj: Record<string, unknown>): Uint8Array {
  const w = new ProtoWriter();
  for (const [k, v] of Object.entries(obj)) {
    const entry = new ProtoWriter().string(1, k).bytes(2, protoValue(v)).finish();
    w.bytes(1, entry);
  }
  return w.finish();
}

export interface NodeInfo {
  id?: string;
  cluster?: string;
  /** Node metadata (Istio puts NAME, NAMESPACE, LABELS, WORKLOAD_NAME ... here). */
  metadata?: Record<string, unknown>;
}

/** envoy.config.core.v3.Node: id = 1, cluster = 2, metadata = 3. */
export function protoNode(node: NodeInfo): Uint8Array {
  const w = new ProtoWriter().string(1, node.id ?? '').string(2, node.cluster ?? '');
  if (node.metadata) w.bytes(3, protoStruct(node.metadata));
  return w.finish();
}

/**
 * A JSON-like value as Envoy serializes it for get_property: strings raw, numbers as double,
 * booleans as one byte, objects of strings as pairs, other objects and lists as protobuf.
 */
export function encodeJsonValue(v: unknown): Uint8Array | undefined {
  if (v === undefined) return undefined;
  if (v === null) return new Uint8Array(0);
  if (typeof v === 'string') return encode.string(v);
  if (typeof v === 'number') return encode.double(v);
  if (typeof v === 'boolean') return encode.bool(v);
  if (Array.isArray(v)) return encode.map(v.map((x) => [String(x), '']));
  const obj = v as Record<string, unknown>;
  if (Object.values(obj).every((x) => typeof x === 'string')) return encode.map(Object.entries(obj) as [string, string][]);
  return protoStruct(obj);
}

/** Looks `path` up in a JSON-like tree (node metadata, for example). */
export function lookupJson(root: unknown, path: string[]): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = Array.isArray(current) ? current[Number(segment)] : (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * A JSON-like value reached by a path into a map (dynamic metadata, a filter state object with
 * fields), as Envoy serializes the CEL value: strings raw, numbers as double, booleans as one
 * byte, maps as pairs whose values are serialized the same way, lists as pairs of element and "".
 */
export function celValue(v: unknown): Uint8Array | undefined {
  if (v === undefined) return undefined;
  if (v === null) return new Uint8Array(0);
  if (typeof v === 'string') return encode.string(v);
  if (typeof v === 'number') return encode.double(v);
  if (typeof v === 'boolean') return encode.bool(v);
  const nested = (x: unknown) => bytesToText(celValue(x) ?? new Uint8Array(0));
  if (Array.isArray(v)) return encode.map(v.map((x) => [nested(x), '']));
  return encode.map(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, nested(x)]));
}

/** envoy.config.core.v3.Metadata: filter_metadata = 1, map<string, Struct>. */
export function protoMetadata(filterMetadata: Record<string, Record<string, unknown>>): Uint8Array {
  const w = new ProtoWriter();
  for (const [namespace, struct] of Object.entries(filterMetadata)) w.bytes(1, new ProtoWriter().string(1, namespace).bytes(2, protoStruct(struct)).finish());
  return w.finish();
}
