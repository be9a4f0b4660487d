// What the policies look at, read from the host once per request and only when asked.
import {
  HeaderMapTypeValues, JsonValue, PeerMetadata, PeerMetadataCounters, PeerOutcome, addressWithoutPort, base64Decode, constantTimeEquals,
  dynamicMetadata, getHeader, getPropertyString, getPropertyInt64, get_current_time_nanoseconds, parseJson, parseXfcc, queryParameter,
  normalizePath, readPeerMetadata, sha256Hex, urlPathOf,
} from "../../assembly";
import { RequestSettings } from "./settings";

/** Where Envoy's jwt_authn filter stores verified payloads (its payload_in_metadata). */
const JWT_AUTHN_NAMESPACE = "envoy.filters.http.jwt_authn";

export class RequestView {
  private cache: Map<string, string | null> = new Map();
  private claimsLoaded: bool = false;
  private claims_: JsonValue | null = null;
  private peer_: PeerMetadata | null = null;
  private consumerLoaded: bool = false;
  private consumer_: string | null = null;
  /** Why the request's credentials cannot be trusted ("" when they can, or there are none). */
  credentialProblem: string = "";
  /** Why an attribute could not be read (makes evaluation fail closed). */
  attributeProblem: string = "";

  constructor(private config: RequestSettings, private peerCounters: PeerMetadataCounters) {}

  /** A header's value; repeated headers are joined with ',' as Envoy's RBAC filter sees them. */
  header(name: string): string | null {
    const key = "h:" + name;
    if (this.cache.has(key)) return this.cache.get(key);
    const v = name.startsWith(":") ? getHeader(HeaderMapTypeValues.RequestHeaders, name) : getPropertyString(["request", "headers", name]);
    this.cache.set(key, v);
    return v;
  }

  /** The path (with its query) as Envoy normalizes it; one that cannot be normalized fails closed. */
  path(): string {
    const key = "normalized-path";
    if (this.cache.has(key)) return this.cache.get(key)!;
    const raw = this.header(":path");
    const normalized = normalizePath(raw === null ? "" : raw, this.config.escapedSlashes);
    if (!normalized.ok) this.attributeProblem = normalized.problem;
    this.cache.set(key, normalized.path);
    return normalized.path;
  }

  urlPath(): string { return urlPathOf(this.path()); }

  method(): string { const m = this.header(":method"); return m === null ? "" : m; }

  host(): string { const h = this.header(":authority"); return h === null ? "" : h; }

  /** A query parameter's value (first occurrence, percent-decoding not applied). */
  queryParam(name: string): string | null { return queryParameter(this.path(), name); }

  property(path: string[]): string | null {
    const key = "p:" + path.join("\0");
    if (this.cache.has(key)) return this.cache.get(key);
    const v = getPropertyString(path);
    this.cache.set(key, v);
    return v;
  }

  sourceAddress(): string | null {
    const a = this.property(["source", "address"]);
    return a === null ? null : addressWithoutPort(a);
  }

  sourcePort(): string | null {
    const port = getPropertyInt64(["source", "port"], -1);
    return port < 0 ? null : port.toString();
  }

  destinationAddress(): string | null {
    const a = this.property(["destination", "address"]);
    return a === null ? null : addressWithoutPort(a);
  }

  destinationPort(): string | null {
    const key = "destination-port";
    if (this.cache.has(key)) return this.cache.get(key);
    const port = getPropertyInt64(["destination", "port"], -1);
    const v: string | null = port < 0 ? null : port.toString();
    this.cache.set(key, v);
    return v;
  }

  /** The peer's identity, as Istio writes principals: "cluster.local/ns/default/sa/sleep". */
  principal(): string | null {
    const key = "principal";
    if (this.cache.has(key)) return this.cache.get(key);
    const v = this.readPrincipal();
    this.cache.set(key, v);
    return v;
  }

  private readPrincipal(): string | null {
    const source = this.config.principalSource;
    if (source.length == 0) return null;
    let raw: string | null = null;
    if (source[0] == "header") {
      const header = this.header(source[1]);
      if (header === null) return null;
      // x-forwarded-client-cert: the element the nearest proxy added is the last; its URI field
      // is the client's identity (a Subject may contain "URI=" text and is never read).
      const elements = parseXfcc(header);
      if (elements === null) { this.attributeProblem = source[1] + " is not a valid x-forwarded-client-cert value"; return null; }
      if (elements.length == 0) return null;
      raw = elements[elements.length - 1].get("uri");
    } else raw = this.property(source.slice(1));
    if (raw === null) return null;
    return raw.startsWith("spiffe://") ? raw.substring(9) : raw;
  }

  sourceNamespace(): string | null {
    const p = this.principal();
    if (p !== null) {
      const at = p.indexOf("/ns/");
      if (at >= 0) {
        const rest = p.substring(at + 4);
        const slash = rest.indexOf("/");
        return slash < 0 ? rest : rest.substring(0, slash);
      }
    }
    // Like Istio, only the authenticated identity names the namespace: peer metadata is a header
    // a client can forge.
    return null;
  }

  /** The calling workload's metadata, when it can be trusted (see `peer_metadata`). */
  peer(): PeerMetadata {
    if (this.peer_ !== null) return this.peer_!;
    const peer = readPeerMetadata(this.config.peerTrust);
    this.peerCounters.count(peer.outcome);
    if (peer.outcome == PeerOutcome.Invalid) this.attributeProblem = peer.problem;
    this.peer_ = peer;
    return peer;
  }

  sourceLabel(name: string): string | null { return this.peer().label(name); }

  destinationLabel(name: string): string | null {
    return this.property(["xds", "node", "metadata", "LABELS", name]);
  }

  // ---- credentials -------------------------------------------------------------------------

  /** The verified JWT's claims: jwt_authn's payload in dynamic metadata (or, unsafely, a header). */
  claims(): JsonValue | null {
    if (this.claimsLoaded) return this.claims_;
    this.claimsLoaded = true;
    const jwt = this.config.jwt;
    if (jwt === null) return null;
    let claims: JsonValue | null = null;
    if (jwt.metadataKeys.length > 0) {
      const verified = dynamicMetadata(JWT_AUTHN_NAMESPACE);
      for (let i = 0; verified !== null && i < jwt.metadataKeys.length && claims === null; i++) claims = verified.get(jwt.metadataKeys[i]);
      if (claims !== null && !claims.isObject()) { this.credentialProblem = "jwt_authn's payload in dynamic metadata is not an object"; return null; }
    }
    if (claims === null && jwt.payloadHeader.length > 0) claims = this.claimsFromHeader(jwt.payloadHeader);
    if (claims === null) return null;
    const exp = claims.get("exp");
    if (exp !== null) {
      if (!exp.isNumber()) { this.credentialProblem = "the JWT exp claim is not a number"; return null; }
      const nowSeconds = <f64>(get_current_time_nanoseconds() / 1_000_000_000);
      if (nowSeconds > exp.number + <f64>(jwt.clockSkewNs / 1_000_000_000)) { this.credentialProblem = "the JWT expired"; return null; }
    }
    const nbf = claims.get("nbf");
    if (nbf !== null && nbf.isNumber()) {
      const nowSeconds = <f64>(get_current_time_nanoseconds() / 1_000_000_000);
      if (nowSeconds + <f64>(jwt.clockSkewNs / 1_000_000_000) < nbf.number) { this.credentialProblem = "the JWT is not valid yet (nbf)"; return null; }
    }
    this.claims_ = claims;
    return claims;
  }

  private claimsFromHeader(header: string): JsonValue | null {
    const raw = this.header(header);
    if (raw === null) return null;
    const bytes = base64Decode(raw);
    if (bytes === null) { this.credentialProblem = "the JWT payload in " + header + " is not base64url"; return null; }
    const parsed = parseJson(String.UTF8.decode(bytes.buffer));
    if (!parsed.ok || !parsed.value!.isObject()) { this.credentialProblem = "the JWT payload in " + header + " is not a JSON object"; return null; }
    return parsed.value;
  }

  /** A claim's values: a string claim gives one, a list of strings several, anything else none. */
  claim(name: string): string[] {
    const claims = this.claims();
    const out = new Array<string>();
    if (claims === null) return out;
    const v = claims.get(name);
    if (v === null) return out;
    if (v.isString()) out.push(v.string);
    else if (v.isArray()) {
      for (let i = 0; i < v.items.length; i++) if (v.items[i].isString()) out.push(v.items[i].string);
    } else if (v.isBool()) out.push(v.bool ? "true" : "false");
    else if (v.isInteger()) out.push((<i64>v.number).toString());
    return out;
  }

  /** Istio's request principal: "<iss>/<sub>". */
  requestPrincipal(): string | null {
    const iss = this.claim("iss");
    const sub = this.claim("sub");
    if (iss.length == 0 || sub.length == 0) return null;
    return iss[0] + "/" + sub[0];
  }

  /** The consumer named by the request's API key, if it presented a known one. */
  consumer(): string | null {
    if (this.consumerLoaded) return this.consumer_;
    this.consumerLoaded = true;
    const keys = this.config.apiKeys;
    if (keys === null) return null;
    let presented: string | null = null;
    for (let i = 0; i < keys.sources.length && presented === null; i++) {
      const s = keys.sources[i];
      presented = s.kind == "header" ? this.header(s.name) : this.queryParam(s.name);
    }
    if (presented === null) return null;
    const digest = sha256Hex(presented);
    for (let i = 0; i < keys.hashes.length; i++) {
      if (constantTimeEquals(keys.hashes[i], digest)) {
        this.consumer_ = keys.consumers[i];
        return this.consumer_;
      }
    }
    this.credentialProblem = "the API key is not known";
    return null;
  }

  /** True when the request carries no credential of a kind this configuration uses. */
  withoutCredentials(): bool {
    const config = this.config;
    if (config.apiKeys === null && config.jwt === null) return false;
    if (config.jwt !== null && this.claims() !== null) return false;
    if (config.apiKeys !== null) {
      const sources = config.apiKeys!.sources;
      for (let i = 0; i < sources.length; i++) {
        const s = sources[i];
        if ((s.kind == "header" ? this.header(s.name) : this.queryParam(s.name)) !== null) return false;
      }
    }
    return true;
  }
}
