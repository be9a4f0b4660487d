// The bare harness host: the least a Proxy-Wasm host can do to run one filter, request after
// request, straight over WebAssembly: no time guard, no checks of the module's arguments, no
// records, no logs kept. It is the baseline host-sim is measured against (and the host the
// SDK peers are timed in), so it answers what the filters in the benchmarks ask and no more:
// a call it does not serve throws, naming the import.
import { randomFillSync } from 'node:crypto';
import { WasmResult } from '../host-sim/abi.js';
import { decodePairs, encodePairs, type HeaderList } from '../host-sim/pairs.js';

type Fn = (...args: never[]) => number | bigint | void;

export interface BareFilter {
  module: Uint8Array;
  rootId: string;
  configuration: Uint8Array;
  /** Envoy's attributes, keyed by the path's segments joined with NUL; missing ones are NotFound. */
  properties?: Map<string, Uint8Array>;
}

export interface BareResponse {
  status: number;
  headers: HeaderList;
  /** What reached the upstream (undefined for a local reply). */
  upstreamHeaders?: HeaderList;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const RESPONSE: HeaderList = [[':status', '200'], ['content-type', 'text/plain']];

export class BareHost {
  private readonly exports: Record<string, Fn & ((...args: number[]) => number)>;
  private readonly memory: WebAssembly.Memory;
  private readonly properties: Map<string, Uint8Array>;
  private readonly configuration: Uint8Array;
  private readonly metrics: number[] = [];
  private readonly shared = new Map<string, { value: Uint8Array; cas: number }>();
  private nextContext = 2;
  private maps: HeaderList[] = [];
  private reply?: { status: number; headers: HeaderList };

  constructor(filter: BareFilter) {
    this.properties = filter.properties ?? new Map();
    this.configuration = filter.configuration;
    const module = new WebAssembly.Module(filter.module as Uint8Array<ArrayBuffer>);
    const served = this.imports();
    const imports: Record<string, Record<string, Fn>> = {};
    for (const { module: ns, name } of WebAssembly.Module.imports(module)) {
      (imports[ns] ??= {})[name] = served[name] ?? (() => { throw new Error(`the bare host does not serve ${ns}.${name}`); });
    }
    const instance = new WebAssembly.Instance(module, imports);
    this.exports = instance.exports as never;
    this.memory = instance.exports.memory as WebAssembly.Memory;
    this.exports._initialize?.();
    const rootId = new TextEncoder().encode(filter.rootId);
    this.properties.set('plugin_root_id', rootId);
    this.exports.proxy_on_context_create(1, 0);
    if (!this.exports.proxy_on_vm_start(1, 0)) throw new Error('the filter refused to start');
    if (!this.exports.proxy_on_configure(1, this.configuration.length)) throw new Error('the filter refused its configuration');
  }

  /** One request through the filter, answered by an upstream with 200 unless the filter replies. */
  request(headers: HeaderList): BareResponse {
    const id = this.nextContext++;
    const e = this.exports;
    this.reply = undefined;
    this.maps = [headers.slice(), [], [], []];
    e.proxy_on_context_create(id, 1);
    e.proxy_on_request_headers(id, headers.length, 1);
    const reply = this.takeReply();
    let upstreamHeaders: HeaderList | undefined;
    if (reply) this.maps[2] = [[':status', String(reply.status)], ...reply.headers];
    else {
      upstreamHeaders = this.maps[0];
      this.maps[2] = RESPONSE.slice();
    }
    e.proxy_on_response_headers(id, this.maps[2].length, 1);
    e.proxy_on_done(id);
    e.proxy_on_log(id);
    e.proxy_on_delete(id);
    return { status: Number(this.maps[2].find(([k]) => k === ':status')?.[1]), headers: this.maps[2], upstreamHeaders };
  }

  /** The local reply the last callback sent, if any (read through a call: the module sets it). */
  private takeReply(): { status: number; headers: HeaderList } | undefined {
    const reply = this.reply;
    this.reply = undefined;
    return reply;
  }

  private view(): DataView { return new DataView(this.memory.buffer); }
  private text(ptr: number, size: number): string { return decoder.decode(new Uint8Array(this.memory.buffer, ptr, size)); }

  private give(bytes: Uint8Array, ptrPtr: number, sizePtr: number): void {
    const ptr = bytes.length ? (this.exports.malloc ?? this.exports.proxy_on_memory_allocate)(bytes.length) : 0;
    new Uint8Array(this.memory.buffer, ptr, bytes.length).set(bytes);
    this.view().setUint32(ptrPtr, ptr, true);
    this.view().setUint32(sizePtr, bytes.length, true);
  }

  private imports(): Record<string, Fn> {
    const ok = () => WasmResult.Ok;
    const headerAt = (map: number, key: string) => this.maps[map].findIndex(([k]) => k === key);
    return {
      proxy_log: ok,
      proxy_get_log_level: (ptr: number) => { this.view().setUint32(ptr, 2, true); return WasmResult.Ok; },
      proxy_set_effective_context: ok,
      proxy_get_status: () => WasmResult.NotFound,
      proxy_get_current_time_nanoseconds: (ptr: number) => { this.view().setBigUint64(ptr, process.hrtime.bigint(), true); return WasmResult.Ok; },
      proxy_set_tick_period_milliseconds: ok,
      proxy_continue_stream: ok,
      proxy_call_foreign_function: () => WasmResult.NotFound,
      proxy_get_buffer_bytes: (type: number, start: number, max: number, ptrPtr: number, sizePtr: number) => {
        if (type !== 6 && type !== 7) return WasmResult.NotFound;
        const buffer = type === 7 ? this.configuration : new Uint8Array();
        this.give(buffer.subarray(start, start + max), ptrPtr, sizePtr);
        return WasmResult.Ok;
      },
      proxy_get_property: (pathPtr: number, pathSize: number, ptrPtr: number, sizePtr: number) => {
        let key = this.text(pathPtr, pathSize);
        if (key.endsWith('\0')) key = key.slice(0, -1);
        const value = this.properties.get(key);
        if (value === undefined) return WasmResult.NotFound;
        this.give(value, ptrPtr, sizePtr);
        return WasmResult.Ok;
      },
      proxy_get_header_map_value: (map: number, keyPtr: number, keySize: number, ptrPtr: number, sizePtr: number) => {
        const at = headerAt(map, this.text(keyPtr, keySize));
        if (at < 0) return WasmResult.NotFound;
        this.give(encoder.encode(this.maps[map][at][1]), ptrPtr, sizePtr);
        return WasmResult.Ok;
      },
      proxy_get_header_map_pairs: (map: number, ptrPtr: number, sizePtr: number) => {
        this.give(encodePairs(this.maps[map]), ptrPtr, sizePtr);
        return WasmResult.Ok;
      },
      proxy_set_header_map_pairs: (map: number, ptr: number, size: number) => {
        this.maps[map] = decodePairs(new Uint8Array(this.memory.buffer, ptr, size)) ?? [];
        return WasmResult.Ok;
      },
      proxy_add_header_map_value: (map: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number) => {
        this.maps[map].push([this.text(keyPtr, keySize), this.text(valuePtr, valueSize)]);
        return WasmResult.Ok;
      },
      proxy_replace_header_map_value: (map: number, keyPtr: number, keySize: number, valuePtr: number, valueSize: number) => {
        const key = this.text(keyPtr, keySize);
        const value = this.text(valuePtr, valueSize);
        const at = headerAt(map, key);
        if (at < 0) this.maps[map].push([key, value]);
        else this.maps[map][at] = [key, value];
        return WasmResult.Ok;
      },
      proxy_remove_header_map_value: (map: number, keyPtr: number, keySize: number) => {
        const key = this.text(keyPtr, keySize);
        this.maps[map] = this.maps[map].filter(([k]) => k !== key);
        return WasmResult.Ok;
      },
      proxy_send_local_response: (status: number, _dp: number, _ds: number, _bp: number, _bs: number, hp: number, hs: number) => {
        this.reply = { status, headers: decodePairs(new Uint8Array(this.memory.buffer, hp, hs)) ?? [] };
        return WasmResult.Ok;
      },
      proxy_define_metric: (_type: number, _np: number, _ns: number, idPtr: number) => {
        this.view().setUint32(idPtr, this.metrics.push(0) - 1, true);
        return WasmResult.Ok;
      },
      proxy_increment_metric: (id: number, offset: bigint) => { this.metrics[id] += Number(offset); return WasmResult.Ok; },
      proxy_record_metric: (id: number, value: bigint) => { this.metrics[id] = Number(value); return WasmResult.Ok; },
      proxy_get_shared_data: (keyPtr: number, keySize: number, ptrPtr: number, sizePtr: number, casPtr: number) => {
        const entry = this.shared.get(this.text(keyPtr, keySize));
        if (!entry) return WasmResult.NotFound;
        this.give(entry.value, ptrPtr, sizePtr);
        this.view().setUint32(casPtr, entry.cas, true);
        return WasmResult.Ok;
      },
      proxy_set_shared_data: (keyPtr: number, keySize: number, valuePtr: number, valueSize: number, cas: number) => {
        const key = this.text(keyPtr, keySize);
        const entry = this.shared.get(key);
        if (cas !== 0 && entry && entry.cas !== cas) return WasmResult.CasMismatch;
        this.shared.set(key, { value: new Uint8Array(this.memory.buffer, valuePtr, valueSize).slice(), cas: (entry?.cas ?? 0) + 1 });
        return WasmResult.Ok;
      },
      // WASI, as Envoy serves it: no files, arguments or environment.
      random_get: (ptr: number, size: number) => { randomFillSync(new Uint8Array(this.memory.buffer, ptr, size)); return 0; },
      clock_time_get: (_id: number, _precision: bigint, ptr: number) => { this.view().setBigUint64(ptr, process.hrtime.bigint(), true); return 0; },
      args_sizes_get: (countPtr: number, sizePtr: number) => { this.view().setUint32(countPtr, 0, true); this.view().setUint32(sizePtr, 0, true); return 0; },
      environ_sizes_get: (countPtr: number, sizePtr: number) => { this.view().setUint32(countPtr, 0, true); this.view().setUint32(sizePtr, 0, true); return 0; },
      args_get: () => 0,
      environ_get: () => 0,
      fd_write: (_fd: number, iovs: number, count: number, writtenPtr: number) => {
        let written = 0;
        for (let i = 0; i < count; i++) written += this.view().getUint32(iovs + i * 8 + 4, true);
        this.view().setUint32(writtenPtr, written, true);
        return 0;
      },
      fd_close: () => 8,
      fd_fdstat_get: () => 8,
      fd_fdstat_set_flags: () => 8,
      fd_prestat_get: () => 8,
      fd_prestat_dir_name: () => 8,
      poll_oneoff: () => 52,
      sched_yield: () => 0,
      proc_exit: (code: number) => { throw new Error(`the module exited with code ${code}`); },
    };
  }
}
