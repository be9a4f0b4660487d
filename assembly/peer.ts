// Whose metadata to believe. Istio's sidecars exchange workload metadata (namespace, service
// account, labels) in the x-envoy-peer-metadata header, which any client can also write. A
// filter uses it only when the peer is authenticated: by default only over a connection whose
// validated client certificate carries a SPIFFE identity that agrees with the metadata.
import { ConfigReader } from "./config";
import { HeaderMapTypeValues } from "./enums";
import { getHeaderPairs } from "./headers";
import { decodePeerMetadata, PEER_METADATA_HEADER } from "./istio";
import { JsonKind, JsonValue } from "./util/json";
import { Counter } from "./metrics";
import { getPropertyBool, getPropertyPairs, getPropertyString } from "./properties";

/** Trust the header only on mTLS, when its namespace and service account match the certificate. */
export const PEER_TRUST_MTLS: u8 = 0;
/** Read what Istio's metadata exchange already stored in filter state (never the header). */
export const PEER_TRUST_ISTIO: u8 = 1;
/** Trust the header from any client: only behind a proxy that removes it from outside requests. */
export const PEER_TRUST_ANY_CLIENT: u8 = 2;
const TRUST_NAMES = ["mtls", "istio", "unsafe_any_client"];

export const enum PeerOutcome { Trusted = 0, Absent = 1, Untrusted = 2, Invalid = 3 }
const OUTCOME_NAMES = ["trusted", "absent", "untrusted", "invalid"];

/** A SPIFFE identity in Istio's form: spiffe://<trust domain>/ns/<namespace>/sa/<service account>. */
export class SpiffeId {
  constructor(public trustDomain: string, public namespace: string, public serviceAccount: string) {}

  static parse(uri: string): SpiffeId | null {
    if (!uri.startsWith("spiffe://")) return null;
    const parts = uri.substring(9).split("/");
    if (parts.length != 5 || parts[1] != "ns" || parts[3] != "sa") return null;
    for (let i = 0; i < 5; i++) if (parts[i].length == 0) return null;
    return new SpiffeId(parts[0], parts[2], parts[4]);
  }
}

/** The peer's metadata as far as it can be trusted, and why not when it cannot. */
export class PeerMetadata {
  constructor(public outcome: PeerOutcome, public metadata: JsonValue | null, public problem: string) {}

  /** A string field of the metadata (NAMESPACE, WORKLOAD_NAME, ...), or null. */
  field(name: string): string | null {
    const metadata = this.metadata;
    if (metadata === null) return null;
    const v = metadata.get(name);
    return v !== null && v.isString() ? v.string : null;
  }

  /** One of the workload's labels (LABELS), or null. */
  label(name: string): string | null {
    const metadata = this.metadata;
    if (metadata === null) return null;
    const labels = metadata.get("LABELS");
    if (labels === null) return null;
    const v = labels.get(name);
    return v !== null && v.isString() ? v.string : null;
  }
}

/** How a filter's configuration says peer metadata is trusted: `"peer_metadata": {"trust": "mtls"}`. */
export function parsePeerTrust(r: ConfigReader, root: JsonValue): u8 {
  const value = root.get("peer_metadata");
  if (value === null || !r.object(value, "peer_metadata", ["trust"])) return PEER_TRUST_MTLS;
  const trust = r.choice(value, "trust", "peer_metadata", TRUST_NAMES, "mtls");
  return <u8>TRUST_NAMES.indexOf(trust);
}

/** Counts each lookup's outcome as `<prefix>.peer_metadata.<outcome>`, defined on first use. */
export class PeerMetadataCounters {
  private counters: Array<Counter | null> = [null, null, null, null];
  constructor(private prefix: string) {}

  count(outcome: PeerOutcome): void {
    let counter = this.counters[outcome];
    if (counter === null) {
      counter = new Counter(this.prefix + ".peer_metadata." + OUTCOME_NAMES[outcome]);
      this.counters[outcome] = counter;
    }
    counter.increment(1);
  }
}

/**
 * The metadata of the downstream peer (from the request) or, with `upstream`, of the upstream
 * peer (from the response), as far as `trust` allows. Repeated or malformed metadata is
 * Invalid (an evaluation error); metadata that cannot be trusted is Untrusted (as if absent).
 */
export function readPeerMetadata(trust: u8, upstream: bool = false): PeerMetadata {
  if (trust == PEER_TRUST_ISTIO) return fromIstioFilterState(upstream);
  const map = upstream ? HeaderMapTypeValues.ResponseHeaders : HeaderMapTypeValues.RequestHeaders;
  const values = getHeaderPairs(map).getAll(PEER_METADATA_HEADER);
  if (values.length == 0) return new PeerMetadata(PeerOutcome.Absent, null, "");
  if (values.length > 1) return new PeerMetadata(PeerOutcome.Invalid, null, PEER_METADATA_HEADER + " is repeated");
  const metadata = decodePeerMetadata(values[0]);
  if (metadata === null) return new PeerMetadata(PeerOutcome.Invalid, null, PEER_METADATA_HEADER + " is not base64 of a protobuf Struct nested at most 32 deep");
  if (trust == PEER_TRUST_ANY_CLIENT) return new PeerMetadata(PeerOutcome.Trusted, metadata, "");
  const problem = certificateMismatch(metadata, upstream);
  if (problem.length > 0) return new PeerMetadata(PeerOutcome.Untrusted, null, problem);
  return new PeerMetadata(PeerOutcome.Trusted, metadata, "");
}

/** Why the connection's certificate does not vouch for `metadata` ("" when it does). */
function certificateMismatch(metadata: JsonValue, upstream: bool): string {
  const connection = upstream ? "upstream" : "connection";
  // connection.mtls: the client presented a certificate, which a listener that requires one
  // and has a trusted CA has validated. Upstream certificates are validated by the cluster.
  if (!upstream && !getPropertyBool(["connection", "mtls"], false)) return "the connection has no client certificate";
  const uri = getPropertyString([connection, "uri_san_peer_certificate"]);
  if (uri === null) return "the peer certificate has no URI SAN";
  const id = SpiffeId.parse(uri);
  if (id === null) return "the peer certificate's URI SAN is not spiffe://<domain>/ns/<namespace>/sa/<account>";
  const namespace = metadata.get("NAMESPACE");
  const account = metadata.get("SERVICE_ACCOUNT");
  if (namespace === null || !namespace.isString() || namespace.string != id.namespace ||
      account === null || !account.isString() || account.string != id.serviceAccount) {
    return "the metadata's NAMESPACE and SERVICE_ACCOUNT do not match the certificate's " + uri;
  }
  return "";
}

/**
 * Istio (1.24 and later) stores the peer its metadata exchange found in filter state as
 * `downstream_peer` / `upstream_peer`, readable field by field (namespace, workload, app,
 * version; labels since 1.25). Istio removes the header it read, so the header is not consulted.
 */
function fromIstioFilterState(upstream: bool): PeerMetadata {
  const key = upstream ? "upstream_peer" : "downstream_peer";
  const namespace = getPropertyString(["filter_state", key, "namespace"]);
  const workload = getPropertyString(["filter_state", key, "workload"]);
  if (namespace === null && workload === null) return new PeerMetadata(PeerOutcome.Absent, null, "");
  const metadata = new JsonValue();
  metadata.kind = JsonKind.Object;
  const labels = new JsonValue();
  labels.kind = JsonKind.Object;
  const pairs = getPropertyPairs(["filter_state", key, "labels"]);
  if (pairs !== null) for (let i = 0; i < pairs.count; i++) put(labels, pairs.key(i), pairs.value(i));
  // app and version are fields of their own (and the only labels before Istio 1.25).
  const app = getPropertyString(["filter_state", key, "app"]);
  const version = getPropertyString(["filter_state", key, "version"]);
  if (app !== null && !labels.has("app")) put(labels, "app", app);
  if (version !== null && !labels.has("version")) put(labels, "version", version);
  if (namespace !== null) put(metadata, "NAMESPACE", namespace);
  if (workload !== null) put(metadata, "WORKLOAD_NAME", workload);
  metadata.keys.push("LABELS");
  metadata.items.push(labels);
  return new PeerMetadata(PeerOutcome.Trusted, metadata, "");
}

function put(object: JsonValue, key: string, text: string): void {
  const v = new JsonValue();
  v.kind = JsonKind.String;
  v.string = text;
  object.keys.push(key);
  object.items.push(v);
}
