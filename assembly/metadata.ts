// Envoy's dynamic metadata: what other filters of the chain recorded for this request (jwt_authn's
// verified payload, say). Clients cannot write it, so decisions may rest on it.
import { decodeStruct } from "./istio";
import { JsonValue } from "./util/json";
import { getProperty } from "./properties";
import { ProtoReader } from "./util/protobuf";

/**
 * The Struct stored under `namespace` (a filter's name, e.g. "envoy.filters.http.jwt_authn"), or
 * null. The whole envoy.config.core.v3.Metadata is read so values keep their types (a path into
 * it returns numbers and strings without saying which is which).
 */
export function dynamicMetadata(namespace: string): JsonValue | null {
  const bytes = getProperty(["metadata"]);
  if (bytes === null) return null;
  const metadata = new ProtoReader(bytes!);
  // filter_metadata = 1: map<string, google.protobuf.Struct>, each entry {key = 1, value = 2}.
  while (metadata.next()) {
    if (metadata.field != 1 || metadata.wire != 2) { metadata.skip(); continue; }
    const entry = metadata.message();
    let key = "";
    let value: ProtoReader | null = null;
    while (entry.next()) {
      if (entry.field == 1 && entry.wire == 2) key = entry.string();
      else if (entry.field == 2 && entry.wire == 2) value = entry.message();
      else entry.skip();
    }
    if (key == namespace) return value === null ? new JsonValue() : decodeStruct(value!);
  }
  return null;
}
