// A request's dimension values: each dimension's sources are tried in order, the first value wins.
import {
  HeaderMapTypeValues, JsonValue, PEER_METADATA_HEADER, addressWithoutPort, decodePeerMetadata, getHeader, getPropertyString, urlPathOf,
} from "../../assembly";
import { Dimension, RateQuotaConfig, Source } from "./config";

function urlPath(): string | null {
  const path = getHeader(HeaderMapTypeValues.RequestHeaders, ":path");
  return path === null ? null : urlPathOf(path);
}

function sourceAddress(): string | null {
  const address = getPropertyString(["source", "address"]);
  return address === null ? null : addressWithoutPort(address);
}

/** The calling workload's metadata, which Istio's sidecars exchange in x-envoy-peer-metadata. */
class Peer {
  private loaded: bool = false;
  private metadata: JsonValue | null = null;

  label(name: string): string | null {
    if (!this.loaded) {
      this.loaded = true;
      const header = getHeader(HeaderMapTypeValues.RequestHeaders, PEER_METADATA_HEADER);
      if (header !== null) this.metadata = decodePeerMetadata(header);
    }
    const metadata = this.metadata;
    if (metadata === null) return null;
    const labels = metadata.get("LABELS");
    if (labels === null) return null;
    const v = labels.get(name);
    return v !== null && v.isString() ? v.string : null;
  }
}

function evaluate(source: Source, peer: Peer): string | null {
  const kind = source.kind;
  if (kind == "peer_label") return peer.label(source.text);
  if (kind == "header") return getHeader(HeaderMapTypeValues.RequestHeaders, source.text);
  if (kind == "constant") return source.text;
  if (kind == "method") return getHeader(HeaderMapTypeValues.RequestHeaders, ":method");
  if (kind == "property") return getPropertyString(source.property);
  if (kind == "source_address") return sourceAddress();
  if (kind == "path") {
    const path = urlPath();
    if (path === null) return null;
    let matched = true;
    if (source.pathMatch == "exact") matched = path == source.pathText;
    else if (source.pathMatch == "prefix") matched = path.startsWith(source.pathText);
    else if (source.pathMatch == "regex") matched = source.regex!.fullMatch(path);
    if (!matched) return null;
    return source.text.length > 0 ? source.text : path;
  }
  // source_cidr
  const address = sourceAddress();
  if (address === null) return null;
  for (let i = 0; i < source.cidrs.length; i++) {
    if (source.cidrs[i].contains(address)) return source.text.length > 0 ? source.text : source.cidrs[i].text;
  }
  return null;
}

function value(dimension: Dimension, peer: Peer): string | null {
  for (let i = 0; i < dimension.sources.length; i++) {
    const v = evaluate(dimension.sources[i], peer);
    if (v !== null) return v;
  }
  return null;
}

/** Dimension values for the current request, computed once each and only when a quota asks. */
export class DimensionValues {
  private values: Array<string | null> = [];
  private known: bool[] = [];
  private peer: Peer = new Peer();

  constructor(private config: RateQuotaConfig) {
    for (let i = 0; i < config.dimensions.length; i++) { this.values.push(null); this.known.push(false); }
  }

  get(index: i32): string | null {
    if (!this.known[index]) {
      this.values[index] = value(this.config.dimensions[index], this.peer);
      this.known[index] = true;
    }
    return this.values[index];
  }
}
