// What the filter reads a request with: where the principal comes from, which peer metadata and
// path forms it trusts, its API keys and where jwt_authn leaves verified payloads. Apart from
// the policies, so reading a request (request.ts) does not depend on the whole configuration.
import { ESCAPED_SLASHES_UNESCAPE, PEER_TRUST_MTLS } from "../../assembly";

export class RequestSettings {
  principalSource: string[] = [];
  peerTrust: u8 = PEER_TRUST_MTLS;
  escapedSlashes: u8 = ESCAPED_SLASHES_UNESCAPE;
  apiKeys: ApiKeys | null = null;
  jwt: JwtSettings | null = null;
}

export class ApiKeys {
  sources: KeySource[] = [];
  hashes: string[] = [];
  consumers: string[] = [];
}

export class KeySource {
  constructor(public kind: string, public name: string) {}
}

export class JwtSettings {
  /** Keys under jwt_authn's dynamic metadata that may hold the verified payload (its payload_in_metadata). */
  metadataKeys: string[] = [];
  /** A header holding the payload, trusted only with unsafe_trust_payload_header ("" when unused). */
  payloadHeader: string = "";
  clockSkewNs: i64 = 60_000_000_000;
}
