// The cardinality cap, counted across every worker VM: Envoy runs one VM per worker thread, so a
// per-VM count would let each worker add its own `max_series_per_metric` series. Admitted label
// sets are recorded in shared data, and a shared count reserves their places with CAS.
import { WasmResultValues, getSharedData, setSharedData } from "../../assembly";

/** Tries before a contended CAS is treated as "full" for this request. */
const CAS_ATTEMPTS: i32 = 8;

export class SeriesLimit {
  private admitted: Set<string> = new Set();
  /** Set once the shared count reached the cap: it never goes down, so skip the CAS from then on. */
  private full: bool = false;
  private countKey: string;

  constructor(private prefix: string, private max: i32) {
    this.countKey = prefix + "count";
    // Created before traffic (configuration runs first in every VM); an existing count is kept.
    if (getSharedData(this.countKey).result == WasmResultValues.NotFound) setSharedData(this.countKey, String.UTF8.encode("0"));
  }

  /** Whether this label set may have its own series. */
  admit(labels: string): bool {
    if (this.admitted.has(labels)) return true;
    const key = this.prefix + "series|" + labels;
    if (getSharedData(key).result == WasmResultValues.Ok) {
      this.admitted.add(labels);
      return true;
    }
    if (this.full) return false;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const count = getSharedData(this.countKey);
      const n = count.value === null ? 0 : I32.parseInt(String.UTF8.decode(count.value!));
      if (n >= this.max) { this.full = true; return false; }
      // Two workers admitting the same new labels at once both count it: the cap errs low, never high.
      if (setSharedData(this.countKey, String.UTF8.encode((n + 1).toString()), count.cas) == WasmResultValues.Ok) {
        setSharedData(key, new ArrayBuffer(0));
        this.admitted.add(labels);
        return true;
      }
    }
    return false;
  }
}
