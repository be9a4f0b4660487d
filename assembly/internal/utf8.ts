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
