// Shared data and shared queues: the state every VM with the same vm_id sees, as in
// proxy-wasm-cpp-host's shared_data.cc and shared_queue.cc.
import { WasmResult } from './abi.js';

interface Entry { value: Uint8Array; cas: number }

export class SharedData {
  private readonly byVmId = new Map<string, Map<string, Entry>>();
  /** One CAS counter for the whole host: every successful write takes the next number. */
  private nextCas = 1;

  private store(vmId: string): Map<string, Entry> {
    let store = this.byVmId.get(vmId);
    if (!store) { store = new Map(); this.byVmId.set(vmId, store); }
    return store;
  }

  get(vmId: string, key: string): { value: Uint8Array; cas: number } | undefined {
    return this.store(vmId).get(key);
  }

  /**
   * cas 0 writes unconditionally; otherwise an existing key's cas must match (else
   * CasMismatch). As in cpp-host, a key that does not exist yet is created whatever the cas.
   */
  set(vmId: string, key: string, value: Uint8Array, cas: number): number {
    const store = this.store(vmId);
    const current = store.get(key);
    if (cas !== 0 && current && current.cas !== cas) return WasmResult.CasMismatch;
    if (cas !== 0 && current && this.conflicts > 0) {
      this.conflicts--;
      return WasmResult.CasMismatch;
    }
    store.set(key, { value: value.slice(), cas: this.nextCas++ });
    return WasmResult.Ok;
  }

  private conflicts = 0;

  /**
   * Makes the next `count` conditional writes fail with CasMismatch, as if another worker had
   * written in between: how a test drives a filter's CAS retry path deterministically.
   */
  injectConflicts(count: number): void { this.conflicts = count; }

  /** The keys stored for `vmId` (what a plugin keeps in shared data). */
  keys(vmId: string): string[] { return [...this.store(vmId).keys()]; }
}

interface Queue {
  vmId: string;
  name: string;
  token: number;
  items: Uint8Array[];
  /** Wakes the registering VM's root context. */
  wake: (token: number) => void;
}

export class SharedQueues {
  private readonly byToken = new Map<number, Queue>();
  private readonly byName = new Map<string, Queue>();
  private nextToken = 1;

  /** Registers (or re-registers, keeping queued items) the queue `name` of `vmId`. */
  register(vmId: string, name: string, wake: (token: number) => void): number {
    const key = `${vmId}\0${name}`;
    const existing = this.byName.get(key);
    if (existing) { existing.wake = wake; return existing.token; }
    const queue: Queue = { vmId, name, token: this.nextToken++, items: [], wake };
    this.byName.set(key, queue);
    this.byToken.set(queue.token, queue);
    return queue.token;
  }

  resolve(vmId: string, name: string): number | undefined {
    return this.byName.get(`${vmId}\0${name}`)?.token;
  }

  enqueue(token: number, data: Uint8Array): number {
    const queue = this.byToken.get(token);
    if (!queue) return WasmResult.NotFound;
    queue.items.push(data.slice());
    queue.wake(token);
    return WasmResult.Ok;
  }

  dequeue(token: number): { result: number; data?: Uint8Array } {
    const queue = this.byToken.get(token);
    if (!queue) return { result: WasmResult.NotFound };
    const data = queue.items.shift();
    if (!data) return { result: WasmResult.Empty };
    return { result: WasmResult.Ok, data };
  }

  size(token: number): number { return this.byToken.get(token)?.items.length ?? 0; }
}
