// Header values are bytes in Envoy, not text: any byte but NUL, CR and LF reaches a module as
// sent. host-sim keeps values as JS strings so tests read naturally, and carries bytes that are
// not UTF-8 as lone surrogates U+DC80..U+DCFF (one per byte, as Python's surrogateescape), so
// every value goes to and from a module byte for byte.

const strict = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();
const ESCAPE_BASE = 0xdc00;

/** The bytes as a string: UTF-8 decoded, each byte of an invalid sequence escaped. */
export function bytesToText(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    let out = '';
    let i = 0;
    while (i < bytes.length) {
      const length = sequenceLength(bytes, i);
      if (length > 0) {
        out += strict.decode(bytes.subarray(i, i + length));
        i += length;
      } else {
        out += String.fromCharCode(ESCAPE_BASE + bytes[i]);
        i++;
      }
    }
    return out;
  }
}

/** The length of a valid UTF-8 sequence at `i`, or 0. */
function sequenceLength(b: Uint8Array, i: number): number {
  const first = b[i];
  if (first < 0x80) return 1;
  const length = first >= 0xc2 && first <= 0xdf ? 2 : first >= 0xe0 && first <= 0xef ? 3 : first >= 0xf0 && first <= 0xf4 ? 4 : 0;
  if (length === 0 || i + length > b.length) return 0;
  try {
    strict.decode(b.subarray(i, i + length));
    return length;
  } catch {
    return 0;
  }
}

const hasEscapes = (text: string) => /[\udc80-\udcff]/.test(text);

/** The bytes a string stands for: UTF-8, with escaped bytes restored. */
export function textToBytes(text: string): Uint8Array {
  if (!hasEscapes(text)) return encoder.encode(text);
  const parts: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xdc80 && code <= 0xdcff && !(i > 0 && isHigh(text.charCodeAt(i - 1)))) {
      parts.push(code - ESCAPE_BASE);
      continue;
    }
    const point = text.codePointAt(i)!;
    if (point > 0xffff) i++;
    parts.push(...encoder.encode(String.fromCodePoint(point)));
  }
  return new Uint8Array(parts);
}

const isHigh = (code: number) => code >= 0xd800 && code <= 0xdbff;

/** A header value given as text or bytes, as host-sim keeps it. */
export const headerText = (value: string | Uint8Array): string => (typeof value === 'string' ? value : bytesToText(value));

/** A body given as text (UTF-8) or bytes, as bytes; none is empty. */
export function asBytes(value: string | Uint8Array | undefined): Uint8Array {
  return value === undefined ? new Uint8Array(0) : typeof value === 'string' ? encoder.encode(value) : value;
}

/** The parts copied into one new array (a part may be a view of a module's memory). */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) { out.set(p, offset); offset += p.length; }
  return out;
}
