// Istio's peer metadata: sidecars exchange their node metadata in the x-envoy-peer-metadata
// header (base64 of a serialized google.protobuf.Struct) so each side knows the other's
// workload, namespace and labels.
import { base64Decode } from "./base64";
import { JsonKind, JsonValue } from "./json";
import { ProtoReader } from "./protobuf";

export const PEER_METADATA_HEADER = "x-envoy-peer-metadata";
export const PEER_METADATA_ID_HEADER = "x-envoy-peer-metadata-id";

/** google.protobuf.Value -> JsonValue (number_value=2 double is read as its 8 raw bytes). */
function protoValue(r: ProtoReader): JsonValue {
  const v = new JsonValue();
  while (r.next()) {
    if (r.field == 1) { r.skip(); v.kind = JsonKind.Null; }
    else if (r.field == 2 && r.wire == 1) { v.kind = JsonKind.Number; v.number = r.double(); }
    else if (r.field == 3 && r.wire == 2) { v.kind = JsonKind.String; v.string = r.string(); }
    else if (r.field == 4 && r.wire == 0) { v.kind = JsonKind.Bool; v.bool = r.varint() != 0; }
    else if (r.field == 5 && r.wire == 2) return decodeStruct(r.message());
    else if (r.field == 6 && r.wire == 2) {
      v.kind = JsonKind.Array;
      const list = r.message();
      while (list.next()) {
        if (list.field == 1 && list.wire == 2) v.items.push(protoValue(list.message()));
        else list.skip();
      }
    } else r.skip();
  }
  return v;
}

/** A serialized google.protobuf.Struct as a JSON object. */
export function decodeStruct(r: ProtoReader): JsonValue {
  const out = new JsonValue();
  out.kind = JsonKind.Object;
  while (r.next()) {
    if (r.field != 1 || r.wire != 2) { r.skip(); continue; }
    const entry = r.message();
    let key = "";
    let value = new JsonValue();
    while (entry.next()) {
      if (entry.field == 1 && entry.wire == 2) key = entry.string();
      else if (entry.field == 2 && entry.wire == 2) value = protoValue(entry.message());
      else entry.skip();
    }
    out.keys.push(key);
    out.items.push(value);
  }
  return out;
}

/** The peer's metadata from the header value, or null when it is not base64 of a Struct. */
export function decodePeerMetadata(headerValue: string): JsonValue | null {
  const bytes = base64Decode(headerValue);
  if (bytes === null) return null;
  const buffer = bytes.buffer;
  const reader = new ProtoReader(buffer);
  const value = decodeStruct(reader);
  return reader.failed ? null : value;
}
