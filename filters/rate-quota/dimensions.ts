// A request's dimension values: each dimension's sources are tried in order, the first value wins.
import {
  HeaderMapTypeValues, PeerMetadata, PeerMetadataCounters, addressWithoutPort, getHeader, getPropertyString, normalizePath, readPeerMetadata, urlPathOf,
} from "../../assembly";
import { Dimension, RateQuotaConfig, Source } from "./config";

/** The path as Envoy normalizes it, so /a and //a/./ count against one bucket; null when it cannot be normalized. */
function urlPath(escapedSlashes: u8): string | null {
  const path = getHeader(HeaderMapTypeValues.RequestHeaders, ":path");
  if (path === null) return null;
  const normalized = normalizePath(path, escapedSlashes);
  return normalized.ok ? urlPathOf(normalized.path) : null;
}

function sourceAddress(): string | null {
  const address = getPropertyString(["source", "address"]);
  return address === null ? null : addressWithoutPort(address);
}

/** The calling workload's metadata, read once per request and only when trusted (see peer_metadata). */
class Peer {
  private metadata: PeerMetadata | null = null;
  constructor(private trust: u8, private counters: PeerMetadataCounters) {}

  label(name: string): string | null {
    if (this.metadata === null) {
      const metadata = readPeerMetadata(this.trust);
      this.counters.count(metadata.outcome);
      this.metadata = metadata;
    }
    // Untrusted or malformed metadata gives no label: the dimension's next source applies.
    return this.metadata!.label(name);
  }
}

function evaluate(source: Source, peer: Peer, escapedSlashes: u8): string | null {
  const kind = source.kind;
  if (kind == "peer_label") return peer.label(source.text);
  if (kind == "header") return getHeader(HeaderMapTypeValues.RequestHeaders, source.text);
  if (kind == "constant") return source.text;
  if (kind == "method") return getHeader(HeaderMapTypeValues.RequestHeaders, ":method");
  if (kind == "property") return getPropertyString(source.property);
  if (kind == "source_address") return sourceAddress();
  if (kind == "path") {
    const path = urlPath(escapedSlashes);
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

function value(dimension: Dimension, peer: Peer, escapedSlashes: u8): string | null {
  for (let i = 0; i < dimension.sources.length; i++) {
    const v = evaluate(dimension.sources[i], peer, escapedSlashes);
    if (v !== null) return v;
  }
  return null;
}

/** Dimension values for the current request, computed once each and only when a quota asks. */
export class DimensionValues {
  private values: Array<string | null> = [];
  private known: bool[] = [];
  private peer: Peer;

  constructor(private config: RateQuotaConfig, peerCounters: PeerMetadataCounters) {
    this.peer = new Peer(config.peerTrust, peerCounters);
    for (let i = 0; i < config.dimensions.length; i++) { this.values.push(null); this.known.push(false); }
  }

  get(index: i32): string | null {
    if (!this.known[index]) {
      this.values[index] = value(this.config.dimensions[index], this.peer, this.config.escapedSlashes);
      this.known[index] = true;
    }
    return this.values[index];
  }
}
