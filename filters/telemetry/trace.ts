// W3C trace context and request ids: keep a valid traceparent (with a new span id for this hop),
// replace an invalid one, create one when absent; add x-request-id when absent.
import { randomU64 } from "../../assembly";

const HEX = "0123456789abcdef";

function hex(value: u64, digits: i32): string {
  let out = "";
  for (let i = digits - 1; i >= 0; i--) out += HEX.charAt(<i32>((value >> (<u64>i * 4)) & 15));
  return out;
}

function isLowerHex(s: string): bool {
  for (let i = 0; i < s.length; i++) if (HEX.indexOf(s.charAt(i)) < 0) return false;
  return true;
}

function allZero(s: string): bool {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) != 48) return false;
  return true;
}

function nonZero64(): u64 {
  let v = randomU64();
  while (v == 0) v = randomU64();
  return v;
}

export class TraceContext {
  constructor(public traceId: string, public spanId: string, public flags: string, public continued: bool) {}
  header(): string { return "00-" + this.traceId + "-" + this.spanId + "-" + this.flags; }
}

/** The traceparent to send on: the caller's trace with a new span, or a new trace. */
export function nextTraceparent(incoming: string | null): TraceContext {
  const span = hex(nonZero64(), 16);
  if (incoming !== null) {
    const parts = incoming.trim().split("-");
    // version-traceid-parentid-flags; version ff is invalid, higher versions may add fields.
    if (parts.length >= 4 && parts[0].length == 2 && parts[1].length == 32 && parts[2].length == 16 && parts[3].length == 2 &&
        isLowerHex(parts[0]) && parts[0] != "ff" && (parts[0] != "00" || parts.length == 4) &&
        isLowerHex(parts[1]) && !allZero(parts[1]) && isLowerHex(parts[2]) && !allZero(parts[2]) && isLowerHex(parts[3])) {
      return new TraceContext(parts[1], span, parts[3], true);
    }
  }
  return new TraceContext(hex(nonZero64(), 16) + hex(randomU64(), 16), span, "01", false);
}

/** A random (version 4) UUID. */
export function uuid4(): string {
  const a = randomU64();
  const b = randomU64();
  const hi = (a & 0xffffffffffff0fff) | 0x4000;
  const lo = (b & 0x3fffffffffffffff) | 0x8000000000000000;
  const h = hex(hi, 16);
  const l = hex(lo, 16);
  return h.substring(0, 8) + "-" + h.substring(8, 12) + "-" + h.substring(12, 16) + "-" + l.substring(0, 4) + "-" + l.substring(4);
}
