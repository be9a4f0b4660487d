// Decoding the host's short values once: the same header values come back request after request
// (methods, hosts, tenants, flags), and a value seen before costs a comparison instead of a new
// string for the collector. A value is remembered only on its second sighting, so values that
// never repeat (request ids, trace ids) cost what they did. Bounded: SLOTS strings at most.
import { decodeUtf8Lossy } from "./utf8";

const SLOTS: u32 = 32;
const MAX_BYTES: usize = 64;

// Hashes seen once, in static memory; the remembered values are made at first use (a module's
// start must not allocate before the SDK's abort handler exists).
const SEEN: usize = memory.data(<i32>SLOTS * 4);
let bytes: StaticArray<ArrayBuffer | null> | null = null;
let strings: StaticArray<string | null> | null = null;

function fnv1a(ptr: usize, size: usize): u32 {
  let hash: u32 = 0x811c9dc5;
  for (let i: usize = 0; i < size; i++) hash = (hash ^ load<u8>(ptr + i)) * 0x01000193;
  return hash;
}

/** The text of `size` bytes at `ptr` (see decodeUtf8Lossy), shared with earlier equal values. */
export function decodeRemembered(ptr: usize, size: usize): string {
  if (size == 0 || size > MAX_BYTES) return decodeUtf8Lossy(ptr, size);
  if (bytes === null) {
    bytes = new StaticArray<ArrayBuffer | null>(SLOTS);
    strings = new StaticArray<string | null>(SLOTS);
  }
  const values = bytes!;
  const texts = strings!;
  const hash = fnv1a(ptr, size);
  const slot = hash % SLOTS;
  const known = unchecked(values[slot]);
  if (known !== null && <usize>known.byteLength == size && memory.compare(changetype<usize>(known), ptr, size) == 0) {
    return unchecked(texts[slot])!;
  }
  const text = decodeUtf8Lossy(ptr, size);
  const seenAt = SEEN + (<usize>slot << 2);
  if (load<u32>(seenAt) == hash) {
    const copy = new ArrayBuffer(<i32>size);
    memory.copy(changetype<usize>(copy), ptr, size);
    unchecked(values[slot] = copy);
    unchecked(texts[slot] = text);
  }
  store<u32>(seenAt, hash);
  return text;
}
