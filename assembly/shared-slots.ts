// State per client-chosen key, shared by every worker VM through shared data and updated with
// CAS, in bounded memory.
//
// Shared data has no delete, so memory is bounded by a fixed table of `size` slots, created once
// (by the configuration canary, before workers start). Clients choose the keys, so keys are
// placed and stored by a keyed digest (HMAC-SHA256 under a per-deployment secret, 16 bytes):
// nobody can aim keys at a slot, and a slot's size does not depend on the key. A key lives in one
// of PROBES slots after its digest; a slot is reused when the codec says its state is idle. A
// live key is never evicted: a key that finds every candidate slot live gets the table's
// overflow slot (when it has one) or none.
import { WasmResultValues } from "./enums";
import { getSharedData, setSharedData } from "./shared-data";
import { HmacSha256 } from "./util/sha256";

const PROBES: i32 = 4;
export const DIGEST_BYTES: i32 = 16;

/** How a table's state is stored: `bytes` bytes before the digest. */
export abstract class SlotCodec<T> {
  abstract get bytes(): i32;
  /** A key's state before anything was recorded. */
  abstract fresh(): T;
  abstract decode(base: usize): T;
  abstract encode(state: T, base: usize): void;
  /** Whether a slot holding `state` may be given to another key at `now`. */
  abstract isIdle(state: T, now: i64): bool;
}

export class SharedSlot<T> {
  /** True when the key found no slot of its own and shares the overflow slot. */
  overflow: bool = false;
  constructor(public name: string, public cas: u32, public digest: Uint8Array, public state: T) {}
}

export class SharedSlotTable<T> {
  private readonly overflowName: string;
  private readonly hmac: HmacSha256;

  /** With `overflow`, keys that find no slot share one more; without, find() returns null for them. */
  constructor(private prefix: string, private size: i32, secret: Uint8Array, private codec: SlotCodec<T>, private overflow: bool) {
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
    if (this.overflow) setSharedData(this.overflowName, empty, 0);
    setSharedData(marker, String.UTF8.encode(sizeText), 0);
  }

  private decode(buffer: ArrayBuffer): T {
    return buffer.byteLength == this.codec.bytes + DIGEST_BYTES ? this.codec.decode(changetype<usize>(buffer)) : this.codec.fresh();
  }

  private holds(buffer: ArrayBuffer, digest: Uint8Array): bool {
    if (buffer.byteLength != this.codec.bytes + DIGEST_BYTES) return false;
    const base = changetype<usize>(buffer) + <usize>this.codec.bytes;
    for (let i = 0; i < DIGEST_BYTES; i++) if (load<u8>(base + <usize>i) != digest[i]) return false;
    return true;
  }

  /**
   * The slot for `digest` with its CAS: where it already lives, else an empty or idle
   * candidate (with fresh state), else the overflow slot or null.
   */
  find(digest: Uint8Array, now: i64): SharedSlot<T> | null {
    const start = ((<u32>digest[0] << 24) | (<u32>digest[1] << 16) | (<u32>digest[2] << 8) | <u32>digest[3]) % <u32>this.size;
    let reusable: SharedSlot<T> | null = null;
    for (let i = 0; i < PROBES; i++) {
      const name = this.slotName(<i32>((start + <u32>i) % <u32>this.size));
      const read = getSharedData(name);
      if (read.result != WasmResultValues.Ok) continue;
      const value = read.value!;
      if (this.holds(value, digest)) return new SharedSlot<T>(name, read.cas, digest, this.decode(value));
      if (reusable === null && (value.byteLength == 0 || this.codec.isIdle(this.decode(value), now))) {
        reusable = new SharedSlot<T>(name, read.cas, digest, this.codec.fresh());
      }
    }
    if (reusable !== null || !this.overflow) return reusable;
    const read = getSharedData(this.overflowName);
    if (read.result != WasmResultValues.Ok) return null;
    const slot = new SharedSlot<T>(this.overflowName, read.cas, digest, this.decode(read.value!));
    slot.overflow = true;
    return slot;
  }

  write(slot: SharedSlot<T>): WasmResultValues {
    const out = new ArrayBuffer(this.codec.bytes + DIGEST_BYTES);
    const base = changetype<usize>(out);
    this.codec.encode(slot.state, base);
    for (let i = 0; i < DIGEST_BYTES; i++) store<u8>(base + <usize>this.codec.bytes + <usize>i, slot.digest[i]);
    return setSharedData(slot.name, out, slot.cas);
  }
}
