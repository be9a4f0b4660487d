import { proxy_get_current_time_nanoseconds, proxy_set_tick_period_milliseconds, wasi_random_get } from "./internal/imports";
import { OUT_U64 } from "./internal/memory";
import { WasmResultValues } from "./enums";

/** Wall-clock time from the host, in nanoseconds since the Unix epoch. */
export function get_current_time_nanoseconds(): u64 {
  store<u64>(OUT_U64, 0);
  proxy_get_current_time_nanoseconds(OUT_U64);
  return load<u64>(OUT_U64);
}

/** Wall-clock time from the host, in milliseconds since the Unix epoch. */
export function nowMilliseconds(): u64 {
  return get_current_time_nanoseconds() / 1_000_000;
}

/** Calls RootContext.onTick every `milliseconds` (0 stops the timer). Root context only. */
export function set_tick_period_milliseconds(milliseconds: u32): WasmResultValues {
  return <WasmResultValues>proxy_set_tick_period_milliseconds(milliseconds);
}

// Random bits are fetched from the host a pool at a time: a host call per 64-bit value costs
// more than the value (a trace context takes four). The pool fills at first use, so every VM
// draws its own.
const POOL_BYTES: usize = 256;
const POOL: usize = memory.data(<i32>POOL_BYTES, 8);
let poolUsed: usize = POOL_BYTES;

/** 64 random bits from the host's cryptographic generator (WASI random_get). */
export function randomU64(): u64 {
  if (poolUsed == POOL_BYTES) {
    if (wasi_random_get(POOL, POOL_BYTES) != 0) throw new Error("WASI random_get failed");
    poolUsed = 0;
  }
  const value = load<u64>(POOL + poolUsed);
  // Drawn bits do not stay behind in memory.
  store<u64>(POOL + poolUsed, 0);
  poolUsed += 8;
  return value;
}

/** Fills `bytes` with cryptographically random data (at most 65536 bytes per call, as Envoy allows). */
export function randomBytes(bytes: ArrayBuffer): bool {
  return wasi_random_get(changetype<usize>(bytes), bytes.byteLength) == 0;
}
