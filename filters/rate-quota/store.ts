// Bucket state in the SDK's shared slot table (assembly/shared-slots.ts): every worker VM
// counts against one bucket per key. A key that finds every candidate slot live shares the
// quota's overflow bucket, so no number of new keys can hand a throttled key a fresh bucket.
import { SharedSlotTable, SlotCodec } from "../../assembly";
import { BucketState, isIdle } from "./limits";

class BucketCodec extends SlotCodec<BucketState> {
  get bytes(): i32 { return 44; }

  fresh(): BucketState { return new BucketState(); }

  decode(base: usize): BucketState {
    const state = new BucketState();
    state.fresh = false;
    state.algorithm = load<u8>(base);
    state.amount = load<f64>(base + 4);
    state.mark = load<i64>(base + 12);
    state.lastUsed = load<i64>(base + 20);
    state.limit = load<i64>(base + 28);
    state.windowNs = max<i64>(1, load<i64>(base + 36));
    return state;
  }

  encode(state: BucketState, base: usize): void {
    store<u8>(base, state.algorithm);
    store<f64>(base + 4, state.amount);
    store<i64>(base + 12, state.mark);
    store<i64>(base + 20, state.lastUsed);
    store<i64>(base + 28, state.limit);
    store<i64>(base + 36, state.windowNs);
  }

  isIdle(state: BucketState, now: i64): bool { return isIdle(state, now); }
}

/** A quota's buckets: `size` slots and an overflow bucket, under `prefix` in shared data. */
export function bucketTable(prefix: string, size: i32, secret: Uint8Array): SharedSlotTable<BucketState> {
  return new SharedSlotTable<BucketState>(prefix, size, secret, new BucketCodec(), true);
}
