// Circuits in the SDK's shared slot table (assembly/shared-slots.ts): one per key across every
// worker VM. Keys beyond the table pass untracked rather than share a circuit, so junk keys can
// never open a circuit for anyone else.
import { SharedSlotTable, SlotCodec } from "../../assembly";
import { BUCKETS, Circuit, isIdle } from "./circuit";
import { CircuitConfig } from "./config";

const WINDOW_AT: usize = 40;

class CircuitCodec extends SlotCodec<Circuit> {
  constructor(private config: CircuitConfig) { super(); }

  get bytes(): i32 { return <i32>WINDOW_AT + BUCKETS * 8; }

  fresh(): Circuit { return new Circuit(); }

  decode(base: usize): Circuit {
    const c = new Circuit();
    c.state = load<u8>(base);
    c.trips = load<u8>(base + 1);
    c.probesInFlight = load<u16>(base + 2);
    c.probeSuccesses = load<i32>(base + 4);
    c.consecutiveFailures = load<i32>(base + 8);
    c.openUntil = load<i64>(base + 16);
    c.lastSeen = load<i64>(base + 24);
    c.newestBucket = load<i64>(base + 32);
    for (let i = 0; i < BUCKETS; i++) {
      c.requests[i] = load<i32>(base + WINDOW_AT + <usize>(i * 4));
      c.failures[i] = load<i32>(base + WINDOW_AT + <usize>((BUCKETS + i) * 4));
    }
    return c;
  }

  encode(c: Circuit, base: usize): void {
    store<u8>(base, <u8>c.state);
    store<u8>(base + 1, <u8>c.trips);
    store<u16>(base + 2, <u16>min<i32>(c.probesInFlight, 65535));
    store<i32>(base + 4, c.probeSuccesses);
    store<i32>(base + 8, c.consecutiveFailures);
    store<i64>(base + 16, c.openUntil);
    store<i64>(base + 24, c.lastSeen);
    store<i64>(base + 32, c.newestBucket);
    for (let i = 0; i < BUCKETS; i++) {
      store<i32>(base + WINDOW_AT + <usize>(i * 4), c.requests[i]);
      store<i32>(base + WINDOW_AT + <usize>((BUCKETS + i) * 4), c.failures[i]);
    }
  }

  isIdle(c: Circuit, now: i64): bool { return isIdle(c, this.config, now); }
}

export function circuitTable(prefix: string, config: CircuitConfig, secret: Uint8Array): SharedSlotTable<Circuit> {
  return new SharedSlotTable<Circuit>(prefix, config.maxKeys, secret, new CircuitCodec(config), false);
}
