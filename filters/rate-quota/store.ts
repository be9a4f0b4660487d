// Bucket state shared by every worker VM through shared data, updated with CAS so concurrent
// workers never admit more than the limit.
//
// Shared data has no delete, so memory is bounded by a fixed table: each quota owns `max_keys`
// slots, created once (by the configuration canary, before workers start). A key lives in one
// of PROBES slots after its hash. A slot is reused when its key is idle (its bucket refilled or
// its window over); when every candidate slot holds a live key, the least recently used of them
// is evicted: that key starts afresh next time, which errs towards allowing.
import { WasmResultValues, fnv1a, getSharedData, setSharedData } from "../../assembly";
import { BucketState, isIdle } from "./limits";

const PROBES: i32 = 4;
const HEADER_BYTES: i32 = 44;

export class Slot {
  /** True when taking this slot pushed out another live key. */
  evicted: bool = false;
  constructor(public name: string, public cas: u32, public key: string, public state: BucketState) {}
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

function storedKey(buffer: ArrayBuffer): string {
  if (buffer.byteLength < HEADER_BYTES) return "";
  return String.UTF8.decodeUnsafe(changetype<usize>(buffer) + HEADER_BYTES, buffer.byteLength - HEADER_BYTES);
}

export function encodeSlot(key: string, state: BucketState): ArrayBuffer {
  const keyLength = String.UTF8.byteLength(key);
  const out = new ArrayBuffer(HEADER_BYTES + keyLength);
  const base = changetype<usize>(out);
  store<u8>(base, state.algorithm);
  store<f64>(base + 4, state.amount);
  store<i64>(base + 12, state.mark);
  store<i64>(base + 20, state.lastUsed);
  store<i64>(base + 28, state.limit);
  store<i64>(base + 36, state.windowNs);
  String.UTF8.encodeUnsafe(changetype<usize>(key), key.length, base + HEADER_BYTES);
  return out;
}

export class SlotTable {
  constructor(private prefix: string, private size: i32) {}

  private slotName(index: i32): string { return this.prefix + index.toString(); }

  /** Creates the slots once per vm_id; the marker records the table size they were made for. */
  ensureCreated(): void {
    const marker = this.prefix + "slots";
    const existing = getSharedData(marker);
    const sizeText = this.size.toString();
    if (existing.value !== null && String.UTF8.decode(existing.value!) == sizeText) return;
    const empty = new ArrayBuffer(0);
    for (let i = 0; i < this.size; i++) setSharedData(this.slotName(i), empty, 0);
    setSharedData(marker, String.UTF8.encode(sizeText), 0);
  }

  /**
   * The slot for `key` with its CAS: where it already lives, else an empty or idle candidate,
   * else the least recently used candidate.
   */
  find(key: string, now: i64): Slot | null {
    const start = fnv1a(key) % <u32>this.size;
    let reusable: Slot | null = null;
    let oldest: Slot | null = null;
    for (let i = 0; i < PROBES; i++) {
      const name = this.slotName(<i32>((start + <u32>i) % <u32>this.size));
      const read = getSharedData(name);
      if (read.result != WasmResultValues.Ok) continue;
      const value = read.value!;
      const state = decode(value);
      const holder = storedKey(value);
      if (holder == key) return new Slot(name, read.cas, key, state);
      const slot = new Slot(name, read.cas, key, state);
      if (reusable === null && isIdle(state, now)) reusable = slot;
      if (oldest === null || state.lastUsed < oldest.state.lastUsed) oldest = slot;
    }
    const chosen = reusable !== null ? reusable : oldest;
    if (chosen !== null) {
      chosen.evicted = reusable === null;
      chosen.state = new BucketState();
    }
    return chosen;
  }

  write(slot: Slot): WasmResultValues {
    return setSharedData(slot.name, encodeSlot(slot.key, slot.state), slot.cas);
  }
}
