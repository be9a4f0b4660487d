// Base64 decoding, standard and URL-safe alphabets, padding optional (JWT payloads are
// base64url without padding; Istio's peer metadata header is standard base64).

function value(c: i32): i32 {
  if (c >= 65 && c <= 90) return c - 65;
  if (c >= 97 && c <= 122) return c - 71;
  if (c >= 48 && c <= 57) return c + 4;
  if (c == 43 || c == 45) return 62;
  if (c == 47 || c == 95) return 63;
  return -1;
}

/** The decoded bytes, or null when `text` is not base64. */
export function base64Decode(text: string): Uint8Array | null {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) == 61) end--;
  if (text.length - end > 2) return null;
  const remainder = end % 4;
  if (remainder == 1) return null;
  const out = new Uint8Array((end / 4) * 3 + (remainder == 0 ? 0 : remainder - 1));
  let o = 0;
  let buffer: u32 = 0;
  let bits: u32 = 0;
  for (let i = 0; i < end; i++) {
    const v = value(text.charCodeAt(i));
    if (v < 0) return null;
    buffer = (buffer << 6) | <u32>v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = <u8>(buffer >> bits);
    }
  }
  return out;
}
