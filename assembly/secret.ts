// A per-deployment secret shared by every VM of one Envoy: made once from the host's
// cryptographic generator (WASI random_get) and kept in shared data, so keyed hashes agree
// across workers while clients cannot predict them.
import { randomBytes } from "./time";
import { getSharedData, setSharedData } from "./shared-data";

/**
 * The secret stored under `name`, created with `length` random bytes if absent. Create it in
 * onConfigure: Envoy configures the first VM before workers start, so every VM reads the same.
 */
export function sharedSecret(name: string, length: i32 = 32): Uint8Array {
  const existing = getSharedData(name);
  if (existing.value !== null && existing.value!.byteLength == length) return Uint8Array.wrap(existing.value!);
  const fresh = new ArrayBuffer(length);
  if (!randomBytes(fresh)) throw new Error("WASI random_get failed: no secret can be made");
  setSharedData(name, fresh, existing.cas);
  // Another VM may have won the race: use whatever is stored now.
  const stored = getSharedData(name);
  return Uint8Array.wrap(stored.value !== null && stored.value!.byteLength == length ? stored.value! : fresh);
}
