// IP addresses and CIDR ranges (IPv4 and IPv6), as Envoy's source and destination attributes
// give them ("10.0.0.1:5432", "[2001:db8::1]:443").

/** The address part of "ip:port" or "[ip]:port" (the text itself when it has no port). */
export function addressWithoutPort(text: string): string {
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    return close > 0 ? text.substring(1, close) : text;
  }
  const colon = text.lastIndexOf(":");
  // One colon: IPv4 with a port. More: a bare IPv6 address.
  if (colon > 0 && text.indexOf(":") == colon) return text.substring(0, colon);
  return text;
}

/** 16 bytes for an IPv6 address, 4 for IPv4; null when `text` is neither. */
export function parseIp(text: string): Uint8Array | null {
  if (text.indexOf(":") < 0) return parseIpv4(text);
  return parseIpv6(text);
}

function parseIpv4(text: string): Uint8Array | null {
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46;
    if (c == 46) {
      if (digits == 0 || part > 3) return null;
      out[part++] = <u8>value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value == 0) return null; // no leading zeros: "01" is ambiguous
      value = value * 10 + (c - 48);
      digits++;
      if (value > 255) return null;
    } else return null;
  }
  return part == 4 ? out : null;
}

function parseIpv6(text: string): Uint8Array | null {
  const out = new Uint8Array(16);
  const groups = new Array<i32>();
  let gap = -1;
  let i = 0;
  if (text.startsWith("::")) { gap = 0; i = 2; }
  while (i < text.length) {
    let value = 0;
    let digits = 0;
    const start = i;
    while (i < text.length && text.charCodeAt(i) != 58) {
      const c = text.charCodeAt(i);
      if (c == 46) {
        // An embedded IPv4 tail such as ::ffff:10.0.0.1
        const v4 = parseIpv4(text.substring(start));
        if (v4 === null) return null;
        groups.push((<i32>v4[0] << 8) | v4[1]);
        groups.push((<i32>v4[2] << 8) | v4[3]);
        i = text.length;
        digits = -1;
        break;
      }
      const h = hex(c);
      if (h < 0 || digits == 4) return null;
      value = (value << 4) | h;
      digits++;
      i++;
    }
    if (digits == -1) break;
    if (digits == 0) return null;
    groups.push(value);
    if (i < text.length) {
      i++;
      if (i < text.length && text.charCodeAt(i) == 58) {
        if (gap >= 0) return null;
        gap = groups.length;
        i++;
      } else if (i == text.length) return null;
    }
  }
  if (gap < 0 && groups.length != 8) return null;
  if (gap >= 0 && groups.length > 7) return null;
  const zeros = 8 - groups.length;
  let g = 0;
  for (let k = 0; k < 8; k++) {
    let value = 0;
    if (gap >= 0 && k >= gap && k < gap + zeros) value = 0;
    else value = groups[g++];
    out[k * 2] = <u8>(value >> 8);
    out[k * 2 + 1] = <u8>value;
  }
  return out;
}

function hex(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** A CIDR range such as "10.0.0.0/8" or "2001:db8::/32". */
export class Cidr {
  private constructor(readonly text: string, private prefix: Uint8Array, private bits: i32) {}

  /** Parses `text`; null when it is not a CIDR range (a bare address is a /32 or /128). */
  static parse(text: string): Cidr | null {
    const slash = text.indexOf("/");
    const address = parseIp(slash < 0 ? text : text.substring(0, slash));
    if (address === null) return null;
    const maxBits = address.length * 8;
    let bits = maxBits;
    if (slash >= 0) {
      const suffix = text.substring(slash + 1);
      if (suffix.length == 0 || suffix.length > 3) return null;
      bits = 0;
      for (let i = 0; i < suffix.length; i++) {
        const c = suffix.charCodeAt(i);
        if (c < 48 || c > 57) return null;
        bits = bits * 10 + (c - 48);
      }
      if (bits > maxBits) return null;
    }
    return new Cidr(text, address, bits);
  }

  /** True when the address (with or without a port) lies in this range. */
  contains(address: string): bool {
    const ip = parseIp(addressWithoutPort(address));
    if (ip === null) return false;
    let candidate = ip;
    // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) matches IPv4 ranges.
    if (ip.length == 16 && this.prefix.length == 4 && isV4Mapped(ip)) candidate = ip.subarray(12);
    if (candidate.length != this.prefix.length) return false;
    const whole = this.bits >> 3;
    for (let i = 0; i < whole; i++) if (candidate[i] != this.prefix[i]) return false;
    const rest = this.bits & 7;
    if (rest == 0) return true;
    const mask = <u8>(0xff << <u8>(8 - rest));
    return (candidate[whole] & mask) == (this.prefix[whole] & mask);
  }
}

function isV4Mapped(ip: Uint8Array): bool {
  for (let i = 0; i < 10; i++) if (ip[i] != 0) return false;
  return ip[10] == 0xff && ip[11] == 0xff;
}
