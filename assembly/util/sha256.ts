// SHA-256 (FIPS 180-4), for comparing secrets such as API keys with stored hashes.

const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const INITIAL: StaticArray<u32> = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

// Scratch reused by every digest (calls never nest): the message schedule, the padded tail
// blocks, the running state and HMAC's inner digest. A digest allocates only its result.
const SCHEDULE = new StaticArray<u32>(64);
const TAIL = new StaticArray<u8>(128);
const STATE = new StaticArray<u32>(8);
const INNER = new StaticArray<u8>(32);

/** Absorbs the 64-byte block at `block` into the 8-word state at `h`. */
function compress(h: usize, block: usize): void {
  const w = changetype<usize>(SCHEDULE);
  const k = changetype<usize>(K);
  for (let t: usize = 0; t < 16; t++) store<u32>(w + (t << 2), bswap<u32>(load<u32>(block + (t << 2))));
  for (let t: usize = 16; t < 64; t++) {
    const a = load<u32>(w + ((t - 15) << 2));
    const b = load<u32>(w + ((t - 2) << 2));
    const s0 = rotr<u32>(a, 7) ^ rotr<u32>(a, 18) ^ (a >>> 3);
    const s1 = rotr<u32>(b, 17) ^ rotr<u32>(b, 19) ^ (b >>> 10);
    store<u32>(w + (t << 2), load<u32>(w + ((t - 16) << 2)) + s0 + load<u32>(w + ((t - 7) << 2)) + s1);
  }
  let a = load<u32>(h); let b = load<u32>(h, 4); let c = load<u32>(h, 8); let d = load<u32>(h, 12);
  let e = load<u32>(h, 16); let f = load<u32>(h, 20); let g = load<u32>(h, 24); let hh = load<u32>(h, 28);
  for (let t: usize = 0; t < 64; t++) {
    const t1 = hh + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) + ((e & f) ^ (~e & g)) + load<u32>(k + (t << 2)) + load<u32>(w + (t << 2));
    const t2 = (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  store<u32>(h, load<u32>(h) + a); store<u32>(h, load<u32>(h, 4) + b, 4);
  store<u32>(h, load<u32>(h, 8) + c, 8); store<u32>(h, load<u32>(h, 12) + d, 12);
  store<u32>(h, load<u32>(h, 16) + e, 16); store<u32>(h, load<u32>(h, 20) + f, 20);
  store<u32>(h, load<u32>(h, 24) + g, 24); store<u32>(h, load<u32>(h, 28) + hh, 28);
}

/**
 * Hashes `length` bytes at `data` into the state at `h`, which has absorbed `prefix` bytes
 * (whole blocks) already, and writes the 32-byte digest to `out`.
 */
function finish(h: usize, prefix: usize, data: usize, length: usize, out: usize): void {
  let offset: usize = 0;
  for (; length - offset >= 64; offset += 64) compress(h, data + offset);
  const tail = changetype<usize>(TAIL);
  const rest = length - offset;
  memory.fill(tail, 0, 128);
  memory.copy(tail, data + offset, rest);
  store<u8>(tail + rest, 0x80);
  const blocks: usize = rest + 9 <= 64 ? 1 : 2;
  store<u64>(tail + blocks * 64 - 8, bswap<u64>(<u64>(prefix + length) << 3));
  compress(h, tail);
  if (blocks == 2) compress(h, tail + 64);
  for (let i: usize = 0; i < 8; i++) store<u32>(out + (i << 2), bswap<u32>(load<u32>(h + (i << 2))));
}

function startFrom(from: StaticArray<u32>): usize {
  const state = changetype<usize>(STATE);
  memory.copy(state, changetype<usize>(from), 32);
  return state;
}

/** The SHA-256 digest of `data` (32 bytes). */
export function sha256(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  finish(startFrom(INITIAL), 0, data.dataStart, <usize>data.length, out.dataStart);
  return out;
}

/**
 * HMAC-SHA256 (RFC 2104) under one key: the key's inner and outer pads are absorbed once, so
 * each digest costs two compressions fewer than hashing the pads again.
 */
export class HmacSha256 {
  private readonly inner: StaticArray<u32> = new StaticArray<u32>(8);
  private readonly outer: StaticArray<u32> = new StaticArray<u32>(8);

  constructor(key: Uint8Array) {
    const block = new Uint8Array(64);
    block.set(key.length > 64 ? sha256(key) : key);
    const pad = new Uint8Array(64);
    for (let i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
    memory.copy(changetype<usize>(this.inner), changetype<usize>(INITIAL), 32);
    compress(changetype<usize>(this.inner), pad.dataStart);
    for (let i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
    memory.copy(changetype<usize>(this.outer), changetype<usize>(INITIAL), 32);
    compress(changetype<usize>(this.outer), pad.dataStart);
  }

  /** The keyed digest of `data` (32 bytes). */
  digest(data: Uint8Array): Uint8Array {
    const inner = changetype<usize>(INNER);
    finish(startFrom(this.inner), 64, data.dataStart, <usize>data.length, inner);
    const out = new Uint8Array(32);
    finish(startFrom(this.outer), 64, inner, 32, out.dataStart);
    return out;
  }
}

const HEX = "0123456789abcdef";

/** Lower-case hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    out += HEX.charAt(bytes[i] >> 4) + HEX.charAt(bytes[i] & 15);
  }
  return out;
}

/** The SHA-256 of `text` (UTF-8) as lower-case hex. */
export function sha256Hex(text: string): string {
  return toHex(sha256(Uint8Array.wrap(String.UTF8.encode(text))));
}

/** Compares two strings in time that depends only on their lengths (for secrets and digests). */
export function constantTimeEquals(a: string, b: string): bool {
  if (a.length != b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff == 0;
}

/** HMAC-SHA256 (RFC 2104) of `data` under `key`: a keyed digest clients cannot aim at. */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new HmacSha256(key).digest(data);
}
