// Passing strings to the host without allocating: AssemblyScript strings are UTF-16, the
// host wants UTF-8. Each call encodes its arguments into one reused scratch area.

let scratch: usize = 0;
let scratchCapacity: usize = 0;

function reserve(bytes: usize): usize {
  if (bytes > scratchCapacity) {
    if (scratch != 0) heap.free(scratch);
    scratchCapacity = max<usize>(bytes + (bytes >> 1), 256);
    scratch = heap.alloc(scratchCapacity);
  }
  return scratch;
}

// Results of the last encode: where each argument starts and how long it is.
export let aPtr: usize = 0;
export let aLen: usize = 0;
export let bPtr: usize = 0;
export let bLen: usize = 0;
export let cPtr: usize = 0;
export let cLen: usize = 0;

/** Encodes one string into the scratch area (aPtr/aLen). */
export function encode1(a: string): void {
  const base = reserve(<usize>a.length * 3);
  aPtr = base;
  aLen = String.UTF8.encodeUnsafe(changetype<usize>(a), a.length, base);
}

/** Encodes two strings into the scratch area (aPtr/aLen, bPtr/bLen). */
export function encode2(a: string, b: string): void {
  const base = reserve(<usize>(a.length + b.length) * 3);
  aPtr = base;
  aLen = String.UTF8.encodeUnsafe(changetype<usize>(a), a.length, base);
  bPtr = base + aLen;
  bLen = String.UTF8.encodeUnsafe(changetype<usize>(b), b.length, bPtr);
}

/** Encodes three strings into the scratch area. */
export function encode3(a: string, b: string, c: string): void {
  const base = reserve(<usize>(a.length + b.length + c.length) * 3);
  aPtr = base;
  aLen = String.UTF8.encodeUnsafe(changetype<usize>(a), a.length, base);
  bPtr = base + aLen;
  bLen = String.UTF8.encodeUnsafe(changetype<usize>(b), b.length, bPtr);
  cPtr = bPtr + bLen;
  cLen = String.UTF8.encodeUnsafe(changetype<usize>(c), c.length, cPtr);
}

/**
 * The host's bytes as text, every byte accounted for: valid UTF-8 decodes as usual, and each
 * byte of an invalid sequence (a stray continuation, a truncated or overlong sequence, a
 * surrogate, 0xF8-0xFF) becomes the lone surrogate U+DC80 + (byte - 0x80), which valid text
 * never holds. The regex engine reads such a unit as RE2 reads the byte: a character that only
 * \C matches. AssemblyScript's own decoder drops or garbles these bytes ("a\xffb" became "a").
 */
export function decodeUtf8Lossy(ptr: usize, len: usize): string {
  let ascii = true;
  for (let i: usize = 0; i < len && ascii; i++) ascii = load<u8>(ptr + i) < 0x80;
  if (ascii) return String.UTF8.decodeUnsafe(ptr, len);
  // UTF-16 code units, surrogate pairs for code points past U+FFFF.
  const out = new Array<i32>();
  let i: usize = 0;
  while (i < len) {
    const b0 = <u32>load<u8>(ptr + i);
    if (b0 < 0x80) { out.push(b0); i++; continue; }
    const need: usize = b0 >= 0xc2 && b0 <= 0xdf ? 1 : b0 >= 0xe0 && b0 <= 0xef ? 2 : b0 >= 0xf0 && b0 <= 0xf4 ? 3 : 0;
    let cp: u32 = need == 1 ? b0 & 0x1f : need == 2 ? b0 & 0x0f : b0 & 0x07;
    let ok = need > 0;
    for (let k: usize = 1; ok && k <= need; k++) {
      if (i + k >= len) { ok = false; break; }
      const b = <u32>load<u8>(ptr + i + k);
      if ((b & 0xc0) != 0x80) { ok = false; break; }
      cp = (cp << 6) | (b & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are invalid too.
    if (ok && ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))) ok = false;
    if (!ok) { out.push(<i32>(0xdc00 + b0)); i++; continue; }
    if (cp >= 0x10000) {
      out.push(<i32>(0xd800 + ((cp - 0x10000) >> 10)));
      out.push(<i32>(0xdc00 + ((cp - 0x10000) & 0x3ff)));
    } else out.push(<i32>cp);
    i += need + 1;
  }
  return String.fromCharCodes(out);
}
