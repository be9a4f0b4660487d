import { proxy_get_shared_data, proxy_set_shared_data } from "./internal/imports";
import { OUT_PTR, OUT_SIZE, OUT_WORD, resetReturned, takeReturnedBytes } from "./internal/memory";
import { encode1, aPtr, aLen } from "./internal/utf8";
import { WasmResultValues } from "./enums";
import { getPropertyString } from "./properties";

// Shared data is one key-value store per vm_id that every worker VM of a plugin sees.
// Each value carries a CAS number; writing with the CAS last read succeeds only if nobody
// wrote in between, which is how workers update a shared counter without locks.

export class SharedDataResult {
  constructor(public result: WasmResultValues, public value: ArrayBuffer | null, public cas: u32) {}
}

/** Reads `key`: result Ok with value and cas, or NotFound. */
export function getSharedData(key: string): SharedDataResult {
  encode1(key);
  resetReturned();
  store<u32>(OUT_WORD, 0);
  const result = <WasmResultValues>proxy_get_shared_data(aPtr, aLen, OUT_PTR, OUT_SIZE, OUT_WORD);
  if (result != WasmResultValues.Ok) return new SharedDataResult(result, null, 0);
  const cas = load<u32>(OUT_WORD);
  return new SharedDataResult(result, takeReturnedBytes(), cas);
}

/** Writes `key`; with cas != 0 only if the stored cas still matches (else CasMismatch). */
export function setSharedData(key: string, value: ArrayBuffer, cas: u32 = 0): WasmResultValues {
  const encodedKey = String.UTF8.encode(key);
  return <WasmResultValues>proxy_set_shared_data(changetype<usize>(encodedKey), encodedKey.byteLength,
    changetype<usize>(value), value.byteLength, cas);
}

/**
 * Where a plugin keeps its shared data: "<filter>|<root id>|". Plugins of one vm_id share one
 * store, so two plugins of the same filter under different root ids keep apart.
 */
export function sharedKeyPrefix(filter: string): string {
  const rootId = getPropertyString(["plugin_root_id"]);
  return filter + "|" + (rootId === null ? "" : rootId) + "|";
}
