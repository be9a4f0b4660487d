// One instance of a module: Envoy's per-thread Wasm VM. It tracks the context a callback runs
// in, defers stream actions until the module returns (as Envoy does), enforces the restricted
// host-call rules of start functions, and turns a trap into a failed VM.
import type { AbiVersion } from './contract.js';
import type { ModuleInfo } from './wasm/binary.js';
import type { LogSink } from './logs.js';
import type { TrapLocator } from './source-map.js';
import { ModuleTimeoutError, Watchdog, type Budget } from './watchdog.js';

/** Thrown by a host function to make the module trap, as Envoy does for forbidden calls. */
export class HostTrap extends Error {}

/** A pointer or size outside the module's memory: the call answers InvalidMemoryAccess. */
export class MemoryAccessError extends Error {}

/** A body or other byte buffer a callback may read and (for bodies) replace. */
export interface BufferAccess {
  get(): Uint8Array;
  set?(bytes: Uint8Array): void;
}

export interface LocalReply {
  status: number;
  details: string;
  body: Uint8Array;
  headers: [string, string][];
  /** -1: none. */
  grpcStatus: number;
}

/** What a stream context's host calls act on; implemented by the filter chain's stream. */
export interface StreamAccess {
  /** The header map of `type`, or undefined while this filter may not touch it (or not write it). */
  headerMap(type: number, write: boolean): [string, string][] | undefined;
  buffer(type: number): BufferAccess | undefined;
  continueStream(streamType: number): number;
  closeStream(streamType: number): number;
  sendLocalResponse(reply: LocalReply): number;
  property(path: string[]): Uint8Array | undefined;
  setProperty(path: string, value: Uint8Array): number;
  /** Stores an Envoy filter state object under its own key (set_envoy_filter_state). */
  setFilterState(key: string, value: Uint8Array): void;
  /** Clears the route cache (`byModule`: the module asked, not as a side effect of a header write). */
  clearRouteCache(byModule?: boolean): void;
  /** Records a write to one of the stream's header maps, for the stream's trace of what each filter did. */
  noteEdit(type: number, edit: HeaderEdit): void;
}

/** A write to a header map: set (replace), add or remove a name, or replace the whole map. */
export type HeaderEdit = ['set' | 'add', string, string] | ['remove', string] | ['set all'];

export interface RootContextRecord { kind: 'root'; id: number; rootId: string }
export interface StreamContextRecord { kind: 'stream'; id: number; rootContextId: number; stream: StreamAccess }
export type ContextRecord = RootContextRecord | StreamContextRecord;

/** The plugin a VM serves: its identity and configuration, and the host services it uses. */
export interface VmOwner {
  readonly name: string;
  readonly rootId: string;
  readonly vmId: string;
  readonly configuration: Uint8Array;
  readonly vmConfiguration: Uint8Array;
  readonly logs: LogSink;
  readonly locator?: TrapLocator;
  /** Stops a call into the module that runs too long. */
  readonly watchdog: Watchdog;
  /** Attributes available without a stream (xds.*, plugin_*, node metadata). */
  rootProperty(path: string[]): Uint8Array | undefined;
}

export class WasmVm {
  instance!: WebAssembly.Instance;
  memory!: WebAssembly.Memory;
  failed = false;
  failure = '';
  /** A VM Envoy discarded (the configuration canary): it receives no more calls. */
  retired = false;
  /** True during on_context_create, on_vm_start and on_configure of the root context: only then is the plugin configuration readable. */
  configuring = false;
  /** Unique across the host: timers and callouts are keyed by it. */
  readonly id = nextVmId++;
  /** True while _initialize/_start/main run: only proxy_log and WASI may be called. */
  restricted = false;
  /** True while instantiating (a start section runs then): no host call is allowed. */
  instantiating = false;
  currentContextId = 0;
  effectiveContextId = 0;
  private nextContextId = 1;
  readonly contexts = new Map<number, ContextRecord>();
  private deferred: (() => void)[] = [];
  private depth = 0;
  /** The work budget the host refills before each outermost call (absent without one). */
  private budget?: Budget;
  /** Data a callback may read only while it runs (callout responses, foreign call data). */
  callbackData: { headers?: [string, string][]; trailers?: [string, string][]; body?: Uint8Array; kind?: 'http' | 'grpc' | 'foreign' } = {};
  /** The status proxy_get_status reports (set before on_grpc_close). */
  lastStatus: { code: number; message: string } = { code: 0, message: '' };

  constructor(
    readonly owner: VmOwner,
    readonly label: string,
    readonly module: WebAssembly.Module,
    readonly info: ModuleInfo,
    readonly abi: AbiVersion,
  ) {}

  instantiate(imports: WebAssembly.Imports): void {
    this.instantiating = true;
    try {
      this.instance = this.owner.watchdog.run(() => `instantiating ${this.owner.name} (${this.label})`, () => new WebAssembly.Instance(this.module, imports));
    } catch (e) {
      throw new Error(`the module's start section trapped while instantiating: ${this.describe(e)}`);
    } finally {
      this.instantiating = false;
    }
    this.budget = Watchdog.budgetOf(this.instance);
    const memory = Object.values(this.instance.exports).find((v) => v instanceof WebAssembly.Memory) ??
      Object.values(imports).flatMap((m) => Object.values(m)).find((v) => v instanceof WebAssembly.Memory);
    if (!memory) throw new Error(`${this.owner.name} has no memory`);
    this.memory = memory as WebAssembly.Memory;
  }

  hasExport(name: string): boolean { return typeof this.instance.exports[name] === 'function'; }

  newContextId(): number { return this.nextContextId++; }

  /** The context host calls act on: the effective one if the module changed it, else the current. */
  context(): ContextRecord | undefined { return this.contexts.get(this.effectiveContextId || this.currentContextId); }

  /** Runs `action` after the outermost call into the module returns (Envoy's after-VM-call actions). */
  defer(action: () => void): void {
    if (this.depth === 0) action();
    else this.deferred.push(action);
  }

  /**
   * Calls the export `name` as context `contextId`. Returns its result, or undefined when the
   * module does not export it or trapped (the VM is then failed).
   */
  call(name: string, contextId: number, ...args: (number | bigint)[]): number | undefined {
    if (this.failed || this.retired) return undefined;
    const fn = this.instance.exports[name] as ((...a: (number | bigint)[]) => number) | undefined;
    if (typeof fn !== 'function') return undefined;
    const savedCurrent = this.currentContextId;
    const savedEffective = this.effectiveContextId;
    this.currentContextId = contextId;
    this.effectiveContextId = 0;
    this.depth++;
    let result: number | undefined;
    const watchdog = this.owner.watchdog;
    if (this.depth === 1) watchdog.refill(this.budget);
    try {
      const outer = [watchdog.current, watchdog.currentCallback, watchdog.currentVm] as const;
      watchdog.current = `${name} of ${this.owner.name} (${this.label})`;
      watchdog.currentCallback = name;
      watchdog.currentVm = this;
      result = watchdog.run(() => watchdog.current, () => fn(...args) as number | undefined);
      [watchdog.current, watchdog.currentCallback, watchdog.currentVm] = outer;
    } catch (e) {
      // A stopped call failed its VM already: nothing the module holds can be trusted any more.
      if (e instanceof ModuleTimeoutError) throw e;
      if (Watchdog.exhausted(this.budget)) watchdog.stop(name);
      this.fail(`${name} trapped: ${this.describe(e)}`, name);
      result = undefined;
    } finally {
      this.depth--;
      this.currentContextId = savedCurrent;
      this.effectiveContextId = savedEffective;
    }
    if (this.depth === 0) this.runDeferred();
    return result;
  }

  /** Runs the module's start functions the way Envoy does, with host calls restricted. */
  runStart(): void {
    const exports = this.instance.exports;
    const watchdog = this.owner.watchdog;
    const run = (name: string, ...args: number[]) => {
      this.restricted = true;
      const what = () => `${name} of ${this.owner.name} (${this.label})`;
      watchdog.refill(this.budget);
      try {
        watchdog.run(what, () => (exports[name] as (...a: number[]) => unknown)(...args));
      } catch (e) {
        if (e instanceof ModuleTimeoutError) throw e;
        if (Watchdog.exhausted(this.budget)) watchdog.stop(what());
        this.fail(`${name} trapped: ${this.describe(e)}`);
      } finally {
        this.restricted = false;
      }
    };
    if (typeof exports._initialize === 'function') {
      run('_initialize');
      if (!this.failed && typeof exports.main === 'function') run('main', 0, 0);
      else if (!this.failed && typeof exports.__main_void === 'function') run('__main_void');
    } else if (typeof exports._start === 'function') {
      run('_start');
    }
  }

  /** Fails the VM; the host logs it (not the plugin), at error level as Envoy's wasm logger does. */
  fail(reason: string, callback?: string): void {
    if (this.failed) return;
    this.failed = true;
    this.failure = reason;
    this.deferred = [];
    const message = callback ? `Function: ${callback} failed: ${reason}` : `Wasm VM failed: ${reason}`;
    this.owner.logs.write({ level: 'error', message, plugin: '', vm: this.label });
  }

  private runDeferred(): void {
    while (this.deferred.length > 0 && !this.failed) {
      const action = this.deferred.shift()!;
      action();
    }
  }

  describe(e: unknown): string {
    const message = e instanceof Error ? e.message : String(e);
    const where = this.owner.locator?.locate(e);
    return where ? `${message} (at ${where})` : message;
  }

  // ---- memory -----------------------------------------------------------------------------------

  view(): DataView { return new DataView(this.memory.buffer); }

  bytes(ptr: number, size: number): Uint8Array {
    if (ptr < 0 || size < 0 || ptr + size > this.memory.buffer.byteLength) {
      throw new MemoryAccessError(`out-of-bounds memory access: ${size} bytes at ${ptr}`);
    }
    return new Uint8Array(this.memory.buffer, ptr, size);
  }

  /** A copy of module memory (the module may reuse or free it after the call). */
  copyBytes(ptr: number, size: number): Uint8Array { return this.bytes(ptr, size).slice(); }

  string(ptr: number, size: number): string { return decoder.decode(this.bytes(ptr, size)); }

  setU32(ptr: number, value: number): void {
    if (ptr + 4 > this.memory.buffer.byteLength || ptr < 0) throw new MemoryAccessError(`out-of-bounds write at ${ptr}`);
    this.view().setUint32(ptr, value >>> 0, true);
  }

  setU64(ptr: number, value: bigint): void {
    if (ptr + 8 > this.memory.buffer.byteLength || ptr < 0) throw new MemoryAccessError(`out-of-bounds write at ${ptr}`);
    this.view().setBigUint64(ptr, BigInt.asUintN(64, value), true);
  }

  /**
   * Copies `data` into memory the module allocates with malloc and writes pointer and size to
   * the out-parameters. Empty data writes 0 and 0 without calling malloc, as cpp-host does.
   */
  returnBytes(data: Uint8Array, ptrPtr: number, sizePtr: number): void {
    let ptr = 0;
    if (data.length > 0) {
      ptr = this.malloc(data.length);
      this.bytes(ptr, data.length).set(data);
    }
    this.setU32(ptrPtr, ptr);
    this.setU32(sizePtr, data.length);
  }

  malloc(size: number): number {
    const exports = this.instance.exports;
    const fn = (exports.malloc ?? exports.proxy_on_memory_allocate) as (n: number) => number;
    const ptr = fn(size) >>> 0;
    if (ptr === 0) throw new MemoryAccessError(`malloc(${size}) returned 0`);
    return ptr;
  }

  log(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical', message: string): void {
    this.owner.logs.write({ level, message, plugin: this.owner.name, vm: this.label });
  }

  /** A line the host writes about this VM (not one the module asked for). */
  hostLog(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'critical', message: string): void {
    this.owner.logs.write({ level, message, plugin: '', vm: this.label });
  }
}

const decoder = new TextDecoder();
let nextVmId = 1;
