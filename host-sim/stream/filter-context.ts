// One plugin's context in one stream: what its host calls may touch right now (Envoy's access
// windows), what it holds, and where it stopped.
import { BufferType, StreamType, WasmResult } from '../abi.js';
import type { Plugin } from '../plugin.js';
import type { RouteDecision } from '../router.js';
import type { BufferAccess, HeaderEdit, LocalReply, StreamAccess, WasmVm } from '../vm.js';
import type { Direction, HeaderList, Phase } from './types.js';

/** What a filter's context asks of the stream that drives the chain. */
export interface FilterChain {
  /** True while on_log runs: every header map is readable then. */
  readonly logging: boolean;
  readonly filterState: Map<string, Uint8Array>;
  routeDecision?: RouteDecision;
  reportedRoute?: RouteDecision;
  headerMapOf(type: number): HeaderList | undefined;
  attribute(path: string[], reader: FilterContext): Uint8Array | undefined;
  onContinue(f: FilterContext, direction: Direction): void;
  onLocalReply(f: FilterContext): void;
  reset(reason: string): void;
}

/** One plugin's context in this stream. */
export class FilterContext implements StreamAccess {
  readonly contextId: number;
  /** Which header maps this filter may touch now (Envoy's access windows). */
  readonly open = new Set<number>();
  /** Body bytes this filter is holding (buffered across chunks), by direction. */
  buffered: Record<Direction, Uint8Array> = { request: new Uint8Array(0), response: new Uint8Array(0) };
  /** The filter's last body callback stopped with a watermark: the next one sees only its chunk. */
  watermarked: Record<Direction, boolean> = { request: false, response: false };
  /** What the filter wrote to the stream's header maps, in order (StreamResult.filters). */
  readonly edits: [number, HeaderEdit][] = [];
  /** The module cleared the route cache itself. */
  clearedRouteCache = false;
  /** The local reply it sent, as the trace shows it. */
  replied?: string;
  /** Where this filter stopped the stream, waiting for continue. */
  waiting?: { direction: Direction; phase: Phase; endOfStream: boolean };
  /** The callback in progress, if any. */
  inCallback?: { direction: Direction; phase: Phase };
  continued: Record<Direction, boolean> = { request: false, response: false };
  localReply?: LocalReply;
  /** Body the current body callback sees. */
  currentBody?: { direction: Direction; bytes: Uint8Array };
  failedHere = false;

  constructor(readonly stream: FilterChain, readonly plugin: Plugin, readonly vm: WasmVm, readonly index: number) {
    this.contextId = vm.newContextId();
    vm.contexts.set(this.contextId, { kind: 'stream', id: this.contextId, rootContextId: plugin.rootContextId(vm), stream: this });
  }

  headerMap(type: number, write: boolean): HeaderList | undefined {
    // In on_log every map is readable and none is writable (Envoy hands over access-log copies).
    if (this.stream.logging) return write ? undefined : this.stream.headerMapOf(type);
    if (!this.open.has(type)) return undefined;
    return this.stream.headerMapOf(type);
  }

  buffer(type: number): BufferAccess | undefined {
    const direction: Direction = type === BufferType.HttpRequestBody ? 'request' : 'response';
    const current = this.currentBody;
    if (current && current.direction === direction) return { get: () => current.bytes, set: (bytes) => { current.bytes = bytes; } };
    // A body the filter is holding stays reachable (from a callout response, say) until it continues.
    if (this.waiting?.direction === direction && this.waiting.phase === 'body') {
      return { get: () => this.buffered[direction], set: (bytes) => { this.buffered[direction] = bytes; } };
    }
    return undefined;
  }

  continueStream(streamType: number): number {
    // Downstream and upstream belong to network filters: nothing to continue on an HTTP stream.
    if (streamType !== StreamType.Request && streamType !== StreamType.Response) return WasmResult.Ok;
    const direction: Direction = streamType === StreamType.Request ? 'request' : 'response';
    this.vm.defer(() => this.stream.onContinue(this, direction));
    return WasmResult.Ok;
  }

  closeStream(streamType: number): number {
    if (streamType > StreamType.Response) return WasmResult.Unimplemented;
    this.vm.defer(() => this.stream.reset('wasm_close_stream'));
    return WasmResult.Ok;
  }

  sendLocalResponse(reply: LocalReply): number {
    // Response code details cannot hold spaces: Envoy turns each into an underscore.
    this.localReply = { ...reply, details: reply.details.replace(/\s/g, '_') };
    this.replied = `${reply.status} (${this.localReply.details})`;
    this.vm.defer(() => this.stream.onLocalReply(this));
    return WasmResult.Ok;
  }

  property(path: string[]): Uint8Array | undefined {
    return this.stream.attribute(path, this) ?? this.plugin.rootProperty(path);
  }

  setProperty(path: string, value: Uint8Array): number {
    // Envoy keys filter state by the raw path; a read looks up its first segment only.
    this.stream.filterState.set(`wasm.${path}`, value);
    return WasmResult.Ok;
  }

  setFilterState(key: string, value: Uint8Array): void { this.stream.filterState.set(key, value); }

  clearRouteCache(byModule = false): void {
    this.stream.reportedRoute = this.stream.routeDecision ?? this.stream.reportedRoute;
    this.stream.routeDecision = undefined;
    if (byModule) this.clearedRouteCache = true;
  }

  noteEdit(type: number, edit: HeaderEdit): void { this.edits.push([type, edit]); }
}
