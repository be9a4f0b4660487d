// Bucket state shared by every worker VM through shared data, updated with CAS so concurrent
// workers never admit more than the limit.
//
// Shared data has no delete, so memory is bounded by a fixed table: each quota owns `max_keys`
// slots, created once (by the configuration canary, before workers start). Clients choose the
// keys, so keys are placed and stored by a keyed digest (HMAC-SHA256 under a per-deployment
// secret, 16 bytes): nobody can aim keys at a slot, and a slot's size does not depend on the
// key. A key lives in one of PROBES slots after its digest; a slot is reused when its key is
// idle (bucket refilled, window over). A live key is never evicted: a key that finds every
// candidate slot live shares the quota's one overflow bucket, so no number of new keys can
// hand a throttled key a fresh bucket.
import { HmacSha256, WasmResultValues, getSharedData, setSharedData } from "../../assembly";
import { BucketState, isIdle } from "./limits";

const PROBES: i32 = 4;
const HEADER_BYTES: i32 = 44;
export const DIGEST_BYTES: i32 = 16;
const SLOT_BYTES: i32 = HEADER_BYTES + DIGEST_BYTES;

export class Slot {
  /** True when the key found no slot of its own and counts against the overflow bucket. */
  overflow: bool = false;
  constructor(public name: string, public cas: u32, public digest: Uint8Array, public state: BucketState) {}
}

function decode(buffer: ArrayBuffer): BucketState {
  const state = new BucketState();
  if (buffer.byteLength < HEADER_BYTES) return state;
  const base = changetype<usize>(buffer);
  state.fresh = false;
  state.algorithm = load<u8>(base);
  state.amount = load<f64>(base + 4);
  state.mark = load<i64>(base + 12);
  state.lastUsed = load<i64>(base + 20);
  state.limit = load<i64>(base + 28);
  state.windowNs = max<i64>(1, load<i64>(base + 36));
  return state;
}

function holds(buffer: ArrayBuffer, digest: Uint8Array): bool {
  if (buffer.byteLength != SLOT_BYTES) return false;
  const base = changetype<usize>(buffer) + HEADER_BYTES;
  for (let i = 0; i < DIGEST_BYTES; i++) if (load<u8>(base + <usize>i) != digest[i]) return false;
  return true;
}

export function encodeSlot(digest: Uint8Array, state: BucketState): ArrayBuffer {
  const out = new ArrayBuffer(SLOT_BYTES);
  const base = changetype<usize>(out);
  store<u8>(base, state.algorithm);
  store<f64>(base + 4, state.amount);
  store<i64>(base + 12, state.mark);
  store<i64>(base + 20, state.lastUsed);
  store<i64>(base + 28, state.limit);
  store<i64>(base + 36, state.windowNs);
  for (let i = 0; i < DIGEST_BYTES; i++) store<u8>(base + HEADER_BYTES + <usize>i, digest[i]);
  return out;
}

export class SlotTable {
  private readonly overflowName: string;
  private readonly hmac: HmacSha256;
  constructor(private prefix: string, private size: i32, secret: Uint8Array) {
    this.overflowName = prefix + "overflow";
    this.hmac = new HmacSha256(secret);
  }

  private slotName(index: i32): string { return this.prefix + index.toString(); }

  /** The key's keyed digest: its identity in the table. */
  digest(key: string): Uint8Array {
    return this.hmac.digest(Uint8Array.wrap(String.UTF8.encode(key))).slice(0, DIGEST_BYTES);
  }

  /** Creates the slots once per vm_id; the marker records the table size they were made for. */
  ensureCreated(): void {
    const marker = this.prefix + "slots";
    const existing = getSharedData(marker);
    const sizeText = this.size.toString();
    if (existing.value !== null && String.UTF8.decode(existing.value!) == sizeText) return;
    const empty = new ArrayBuffer(0);
    for (let i = 0; i < this.size; i++) setSharedData(this.slotName(i), empty, 0);
    setSharedData(this.overflowName, empty, 0);
    setSharedData(marker, String.UTF8.encode(sizeText), 0);
  }

  /**
   * The slot for `digest` with its CAS: where it already lives, else an empty or idle
   * candidate, else the overflow bucket.
   */
  find(digest: Uint8Array, now: i64): Slot | null {
    const start = ((<u32>digest[0] << 24) | (<u32>digest[1] << 16) | (<u32>digest[2] << 8) | <u32>digest[3]) % <u32>this.size;
    let reusable: Slot | null = null;
    for (let i = 0; i < PROBES; i++) {
      const name = this.slotName(<i32>((start + <u32>i) % <u32>this.size));
      const read = getSharedData(name);
      if (read.result != WasmResultValues.Ok) continue;
      const value = read.value!;
      const state = decode(value);
      if (holds(value, digest)) return new Slot(name, read.cas, digest, state);
      if (reusable === null && isIdle(state, now)) reusable = new Slot(name, read.cas, digest, new BucketState());
    }
    if (reusable !== null) return reusable;
    const read = getSharedData(this.overflowName);
    if (read.result != WasmResultValues.Ok) return null;
    const slot = new Slot(this.overflowName, read.cas, digest, decode(read.value!));
    slot.overflow = true;
    return slot;
  }

  write(slot: Slot): WasmResultValues {
    return setSharedData(slot.name, encodeSlot(slot.digest, slot.state), slot.cas);
  }
}
