// Memory the host writes into. The host returns variable-sized data (headers, bodies,
// properties) by calling our exported `malloc` and writing the pointer and size into
// out-parameters; the SDK copies or decodes that block at once, so returned data never waits
// for the garbage collector. Small blocks go to one reused return area instead of the heap:
// a header value or a property then costs no allocation.
import { decodeRemembered } from "./recent-strings";

// Out-parameter slots, reused by every host call (calls never nest on one VM thread).
export const OUT_PTR: usize = memory.data(8);
export const OUT_SIZE: usize = memory.data(8);
export const OUT_WORD: usize = memory.data(8);
export const OUT_U64: usize = memory.data(8, 8);

const RETURN_AREA_SIZE: usize = 1024;
const RETURN_AREA: usize = memory.data(<i32>RETURN_AREA_SIZE, 16);
let returnAreaInUse = false;

/** Allocates `size` bytes for the host; the SDK releases the block after reading it. */
export function hostAlloc(size: usize): usize {
  if (!returnAreaInUse && size <= RETURN_AREA_SIZE) {
    returnAreaInUse = true;
    return RETURN_AREA;
  }
  return heap.alloc(size == 0 ? 1 : size);
}

/** Releases a block the host returned (0 when it returned nothing). */
function releaseReturned(ptr: usize): void {
  if (ptr == RETURN_AREA) returnAreaInUse = false;
  else if (ptr != 0) heap.free(ptr);
}

/** Copies the block the host returned through OUT_PTR/OUT_SIZE into a managed ArrayBuffer. */
export function takeReturnedBytes(): ArrayBuffer {
  const ptr = load<usize>(OUT_PTR);
  const size = load<usize>(OUT_SIZE);
  const out = new ArrayBuffer(<i32>size);
  if (ptr != 0) memory.copy(changetype<usize>(out), ptr, size);
  releaseReturned(ptr);
  return out;
}

/** Decodes the block the host returned through OUT_PTR/OUT_SIZE as UTF-8. */
export function takeReturnedString(): string {
  const ptr = load<usize>(OUT_PTR);
  const size = load<usize>(OUT_SIZE);
  if (ptr == 0) return "";
  const s = decodeRemembered(ptr, size);
  releaseReturned(ptr);
  return s;
}

/**
 * Clears the out-parameters before a host call, so a host that writes nothing leaves no stale
 * pointer behind; a block an earlier call returned and nobody read is garbage by now.
 */
export function resetReturned(): void {
  store<usize>(OUT_PTR, 0);
  store<usize>(OUT_SIZE, 0);
  returnAreaInUse = false;
}
