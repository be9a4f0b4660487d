// Istio's peer metadata: sidecars exchange their node metadata in the x-envoy-peer-metadata
// header (base64 of a serialized google.protobuf.Struct) so each side knows the other's
// workload, namespace and labels.
import { base64Decode } from "./util/base64";
import { JsonKind, JsonValue } from "./util/json";
import { ProtoReader } from "./util/protobuf";

export const PEER_METADATA_HEADER = "x-envoy-peer-metadata";
export const PEER_METADATA_ID_HEADER = "x-envoy-peer-metadata-id";

/** Nesting deeper than this is refused: the header comes from the client and recursion has a finite stack. */
const MAX_DEPTH = 32;

/** Decodes Struct/Value messages, remembering whether any nested message was malformed or too deep. */
class StructDecoder {
  failed: bool = false;

  /** google.protobuf.Value -> JsonValue (number_value=2 double is read as its 8 raw bytes). */
  value(r: ProtoReader, depth: i32): JsonValue {
    const v = new JsonValue();
    if (depth > MAX_DEPTH) { this.failed = true; return v; }
    while (r.next()) {
      if (r.field == 1) { r.skip(); v.kind = JsonKind.Null; }
      else if (r.field == 2 && r.wire == 1) { v.kind = JsonKind.Number; v.number = r.double(); }
      else if (r.field == 3 && r.wire == 2) { v.kind = JsonKind.String; v.string = r.string(); }
      else if (r.field == 4 && r.wire == 0) { v.kind = JsonKind.Bool; v.bool = r.varint() != 0; }
      else if (r.field == 5 && r.wire == 2) return this.struct(r.message(), depth + 1);
      else if (r.field == 6 && r.wire == 2) {
        v.kind = JsonKind.Array;
        const list = r.message();
        while (list.next()) {
          if (list.field == 1 && list.wire == 2) v.items.push(this.value(list.message(), depth + 1));
          else list.skip();
        }
        if (list.failed) this.failed = true;
      } else r.skip();
    }
    if (r.failed) this.failed = true;
    return v;
  }

  struct(r: ProtoReader, depth: i32): JsonValue {
    const out = new JsonValue();
    out.kind = JsonKind.Object;
    if (depth > MAX_DEPTH) { this.failed = true; return out; }
    while (r.next()) {
      if (r.field != 1 || r.wire != 2) { r.skip(); continue; }
      const entry = r.message();
      let key = "";
      let value = new JsonValue();
      while (entry.next()) {
        if (entry.field == 1 && entry.wire == 2) key = entry.string();
        else if (entry.field == 2 && entry.wire == 2) value = this.value(entry.message(), depth + 1);
        else entry.skip();
      }
      if (entry.failed) this.failed = true;
      out.keys.push(key);
      out.items.push(value);
    }
    if (r.failed) this.failed = true;
    return out;
  }
}

/** A serialized google.protobuf.Struct as a JSON object, or null when malformed or nested too deep. */
export function decodeStruct(r: ProtoReader): JsonValue | null {
  const decoder = new StructDecoder();
  const value = decoder.struct(r, 0);
  return decoder.failed ? null : value;
}

/** The peer's metadata from the header value, or null when it is not base64 of a Struct. */
export function decodePeerMetadata(headerValue: string): JsonValue | null {
  const bytes = base64Decode(headerValue);
  if (bytes === null) return null;
  const buffer = bytes.buffer;
  return decodeStruct(new ProtoReader(buffer));
}
