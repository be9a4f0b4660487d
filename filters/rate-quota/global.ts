// Global mode: Envoy's rate limit service (envoy.service.ratelimit.v3.RateLimitService), so a
// fleet of Envoys shares limits through envoyproxy/ratelimit. Messages are encoded by hand from
// rls.proto: RateLimitRequest{domain=1, descriptors=2{entries=1{key=1, value=2}}} and
// RateLimitResponse{overall_code=1, statuses=2, response_headers_to_add=3, request_headers_to_add=4}.
import { HeaderPair, ProtoReader, ProtoWriter, asciiLowerCase } from "../../assembly";

export const RLS_SERVICE = "envoy.service.ratelimit.v3.RateLimitService";
export const RLS_METHOD = "ShouldRateLimit";

export const CODE_OK: u32 = 1;
export const CODE_OVER_LIMIT: u32 = 2;

/** One descriptor: (key, value) entries, the quota's name first. */
export class Descriptor {
  keys: string[] = [];
  values: string[] = [];
}

export function encodeRequest(domain: string, descriptors: Descriptor[]): ArrayBuffer {
  const request = new ProtoWriter().string(1, domain);
  for (let i = 0; i < descriptors.length; i++) {
    const d = new ProtoWriter();
    for (let j = 0; j < descriptors[i].keys.length; j++) {
      d.message(1, new ProtoWriter().string(1, descriptors[i].keys[j]).string(2, descriptors[i].values[j]));
    }
    request.message(2, d);
  }
  return request.finish();
}

export class DescriptorStatus {
  code: u32 = 0;
  limit: i64 = -1;
  windowNs: i64 = 0;
  remaining: i64 = 0;
  resetNs: i64 = 0;
}

export class RlsResponse {
  overallCode: u32 = 0;
  statuses: DescriptorStatus[] = [];
  responseHeaders: HeaderPair[] = [];
  requestHeaders: HeaderPair[] = [];
  /** False when the bytes were not a RateLimitResponse. */
  valid: bool = true;
}

// RateLimitResponse.RateLimit.Unit: UNKNOWN, SECOND, MINUTE, HOUR, DAY, MONTH, YEAR, WEEK.
const UNIT_SECONDS: i64[] = [0, 1, 60, 3600, 86400, 30 * 86400, 365 * 86400, 7 * 86400];

function header(r: ProtoReader): HeaderPair {
  let key = "";
  let value = "";
  while (r.next()) {
    if (r.field == 1 && r.wire == 2) key = r.string();
    else if ((r.field == 2 || r.field == 3) && r.wire == 2) value = r.string();
    else r.skip();
  }
  return HeaderPair.of(asciiLowerCase(key), value);
}

function status(r: ProtoReader): DescriptorStatus {
  const s = new DescriptorStatus();
  while (r.next()) {
    if (r.field == 1 && r.wire == 0) s.code = <u32>r.varint();
    else if (r.field == 2 && r.wire == 2) {
      const limit = r.message();
      let unit: i32 = 0;
      while (limit.next()) {
        if (limit.field == 1 && limit.wire == 0) s.limit = <i64>limit.varint();
        else if (limit.field == 2 && limit.wire == 0) unit = <i32>limit.varint();
        else limit.skip();
      }
      s.windowNs = (unit >= 0 && unit < UNIT_SECONDS.length ? UNIT_SECONDS[unit] : 0) * 1_000_000_000;
    } else if (r.field == 3 && r.wire == 0) s.remaining = <i64>r.varint();
    else if (r.field == 4 && r.wire == 2) {
      const d = r.message();
      while (d.next()) {
        if (d.field == 1 && d.wire == 0) s.resetNs += <i64>d.varint() * 1_000_000_000;
        else if (d.field == 2 && d.wire == 0) s.resetNs += <i64>d.varint();
        else d.skip();
      }
    } else r.skip();
  }
  return s;
}

export function decodeResponse(bytes: ArrayBuffer): RlsResponse {
  const out = new RlsResponse();
  const r = new ProtoReader(bytes);
  while (r.next()) {
    if (r.field == 1 && r.wire == 0) out.overallCode = <u32>r.varint();
    else if (r.field == 2 && r.wire == 2) out.statuses.push(status(r.message()));
    else if (r.field == 3 && r.wire == 2) out.responseHeaders.push(header(r.message()));
    else if (r.field == 4 && r.wire == 2) out.requestHeaders.push(header(r.message()));
    else r.skip();
  }
  out.valid = !r.failed && out.overallCode != 0;
  return out;
}
