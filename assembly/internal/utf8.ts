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

let rawScratch: usize = 0;
let rawCapacity: usize = 0;
/** The length of the bytes rawBytes last wrote. */
export let rawLength: i32 = 0;

/**
 * The bytes `text` (its units [from, to) when given) stands for, the inverse of
 * decodeUtf8Lossy: U+DC80-U+DCFF give back the single bytes they stand for, everything else is
 * UTF-8. Written to a reused area (valid until the next call); returns where, with the length
 * in rawLength.
 */
export function rawBytes(text: string, from: i32 = 0, to: i32 = -1): usize {
  const n = <usize>((to < 0 ? text.length : to) - from);
  if (n * 3 > rawCapacity) {
    if (rawScratch != 0) heap.free(rawScratch);
    rawCapacity = max<usize>(n * 3 + (n >> 1), 256);
    rawScratch = heap.alloc(rawCapacity);
  }
  const src = changetype<usize>(text) + (<usize>from << 1);
  let out = rawScratch;
  let i: usize = 0;
  // ASCII four units at a time.
  while (i + 4 <= n) {
    const units = load<u64>(src + (i << 1));
    if ((units & 0xff80ff80ff80ff80) != 0) break;
    store<u32>(out, <u32>(units & 0xff) | <u32>((units >> 8) & 0xff00) | <u32>((units >> 16) & 0xff0000) | <u32>((units >> 24) & 0xff000000));
    out += 4;
    i += 4;
  }
  for (; i < n; i++) {
    const c = <u32>load<u16>(src + (i << 1));
    if (c < 0x80) { store<u8>(out++, <u8>c); continue; }
    if (c < 0x800) { store<u8>(out++, <u8>(0xc0 | (c >> 6))); store<u8>(out++, <u8>(0x80 | (c & 0x3f))); continue; }
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      const low = <u32>load<u16>(src + ((i + 1) << 1));
      if (low >= 0xdc00 && low < 0xe000) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        store<u8>(out++, <u8>(0xf0 | (cp >> 18)));
        store<u8>(out++, <u8>(0x80 | ((cp >> 12) & 0x3f)));
        store<u8>(out++, <u8>(0x80 | ((cp >> 6) & 0x3f)));
        store<u8>(out++, <u8>(0x80 | (cp & 0x3f)));
        i++;
        continue;
      }
    }
    if (c >= 0xdc80 && c <= 0xdcff) { store<u8>(out++, <u8>(c - 0xdc00)); continue; }
    store<u8>(out++, <u8>(0xe0 | (c >> 12)));
    store<u8>(out++, <u8>(0x80 | ((c >> 6) & 0x3f)));
    store<u8>(out++, <u8>(0x80 | (c & 0x3f)));
  }
  rawLength = <i32>(out - rawScratch);
  return rawScratch;
}
