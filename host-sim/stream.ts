// One HTTP stream through the filter chain, driven the way Envoy's filter manager drives it:
// request headers, body chunks and trailers through the filters in order, the router and an
// upstream, then the response back through the filters in reverse, then on_log, on_done and
// on_delete for every filter.
import { BufferType, FilterDataStatus, FilterHeadersStatus, GrpcStatus, HeaderMapType, StreamType, WasmResult } from './abi.js';
import { celValue, encode, lookupJson, protoMetadata } from './attributes.js';
import type { Watchdog } from './watchdog.js';
import type { Plugin } from './plugin.js';
import type { RouteDecision } from './router.js';
import type { BufferAccess, LocalReply, StreamAccess, WasmVm } from './vm.js';

type HeaderList = [string, string][];
type Direction = 'request' | 'response';
type Phase = 'headers' | 'body' | 'trailers';

export interface UpstreamRequest {
  cluster: string;
  headers: HeaderList;
  body: Uint8Array;
  trailers: HeaderList;
}

export interface UpstreamResponse {
  status: number;
  headers?: HeaderList | Record<string, string>;
  body?: string | Uint8Array | (string | Uint8Array)[];
  trailers?: HeaderList | Record<string, string>;
  /** The upstream reset the stream instead of answering (Envoy answers 503 upstream reset). */
  reset?: boolean;
}

/** What the chain needs from the host to run a stream. */
export interface StreamHost {
  route(headers: HeaderList): RouteDecision;
  /** Sends the request to the chosen cluster. */
  upstream(request: UpstreamRequest): { response: UpstreamResponse | Promise<UpstreamResponse>; kind: 'network' | 'handler' };
  now(): number;
  track(work: Promise<unknown>, kind: 'network' | 'handler'): () => void;
  readonly clock: { schedule(delayMs: number, fire: () => void): unknown; cancel(timer: never): void };
  readonly routeTimeoutMs: number;
  readonly streamIdleTimeoutMs: number;
  readonly watchdog: Watchdog;
}

/** A TLS connection's properties as Envoy's connection.* attributes report them. */
export interface TlsInfo {
  /** Default TLSv1.3. */
  version?: string;
  sni?: string;
  /** The certificate the peer presented and the listener validated; none means TLS without mTLS. */
  peerCertificate?: { uriSan?: string; dnsSan?: string; subject?: string };
}

export interface StreamOptions {
  source: string;
  destination: string;
  protocol: string;
  attributes: Map<string, Uint8Array>;
  tls?: TlsInfo;
  dynamicMetadata: Record<string, Record<string, unknown>>;
  filterStateObjects: Record<string, Record<string, unknown>>;
  connectionId: number;
  requestId?: string;
  /**
   * The client speaks HTTP/1: Envoy's codec hands body data on as it arrives and ends the
   * stream with an empty body callback (end of message), whatever the framing.
   */
  http1?: boolean;
}

/** One plugin's context in this stream. */
class FilterContext implements StreamAccess {
  readonly contextId: number;
  /** Which header maps this filter may touch now (Envoy's access windows). */
  readonly open = new Set<number>();
  /** Body bytes this filter is holding (buffered across chunks), by direction. */
  buffered: Record<Direction, Uint8Array> = { request: new Uint8Array(0), response: new Uint8Array(0) };
  /** The filter's last body callback stopped with a watermark: the next one sees only its chunk. */
  watermarked: Record<Direction, boolean> = { request: false, response: false };
  /** Where this filter stopped the stream, waiting for continue. */
  waiting?: { direction: Direction; phase: Phase; endOfStream: boolean };
  /** The callback in progress, if any. */
  inCallback?: { direction: Direction; phase: Phase };
  continued: Record<Direction, boolean> = { request: false, response: false };
  localReply?: LocalReply;
  /** Body the current body callback sees. */
  currentBody?: { direction: Direction; bytes: Uint8Array };
  failedHere = false;

  constructor(readonly stream: HttpStream, readonly plugin: Plugin, readonly vm: WasmVm, readonly index: number) {
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
    this.vm.defer(() => this.stream.onLocalReply(this));
    return WasmResult.Ok;
  }

  property(path: string[]): Uint8Array | undefined {
    return this.stream.property(path, this) ?? this.plugin.rootProperty(path);
  }

  setProperty(path: string, value: Uint8Array): number {
    // Envoy keys filter state by the raw path; a read looks up its first segment only.
    this.stream.filterState.set(`wasm.${path}`, value);
    return WasmResult.Ok;
  }

  setFilterState(key: string, value: Uint8Array): void { this.stream.filterState.set(key, value); }

  clearRouteCache(): void { this.stream.routeDecision = undefined; }
}

export interface StreamResult {
  /** The status the client received (0 when the stream was reset or stalled). */
  status: number;
  headers: HeaderList;
  body: string;
  bodyBytes: Uint8Array;
  trailers: HeaderList;
  /** Set when a filter (or the host, for a failed VM) answered instead of the upstream. */
  localReply?: { status: number; details: string; plugin: string };
  /** What reached the upstream, and which cluster served it. */
  upstream?: { cluster: string; headers: HeaderList; body: Uint8Array; trailers: HeaderList };
  /** The route Envoy's router chose (or its 404/503 reason). */
  route?: RouteDecision;
  /** Set when the stream stopped and nothing was left that could continue it. */
  stalled?: { plugin: string; direction: Direction; phase: Phase; description: string };
  /** Set when the stream was reset (closed) instead of answered. */
  resetReason?: string;
  /** Filter state written with set_property, by key (wasm.<path>). */
  filterState: Map<string, Uint8Array>;
  /** The response code details Envoy would log (e.g. via_upstream, wasm_fail_stream). */
  responseCodeDetails: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toList(h: HeaderList | Record<string, string> | undefined): HeaderList {
  if (!h) return [];
  const list = Array.isArray(h) ? h : Object.entries(h);
  return list.map(([k, v]) => [k.toLowerCase(), String(v)]);
}

function toBytes(b: string | Uint8Array | undefined): Uint8Array {
  return b === undefined ? new Uint8Array(0) : typeof b === 'string' ? encoder.encode(b) : b;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

const CONNECT_FAILURE_TEXT = 'upstream connect error or disconnect/reset before headers. reset reason: remote connection failure';

/** Envoy's response code details for an upstream it could not reach. */
function connectFailure(error: Error): string {
  const refused = /ECONNREFUSED/.test(error.message) ? '|delayed_connect_error:_Connection_refused' : '';
  return `upstream_reset_before_response_started{remote_connection_failure${refused}}`;
}

/**
 * The response headers as Envoy's HTTP/1 codec sends them: a response that ends without a body
 * gets `content-length: 0` unless its status forbids a body.
 */
function withFraming(headers: HeaderList, status: number, body: Uint8Array, trailers: HeaderList): HeaderList {
  const bodyless = status < 200 || status === 204 || status === 304;
  if (bodyless || body.length > 0 || trailers.length > 0 || headers.some(([k]) => k === 'content-length' || k === 'transfer-encoding')) return headers;
  return [...headers, ['content-length', '0']];
}

/** Header StopIteration and other non-Continue codes Envoy turns into a stop. */
function headersContinue(status: number | undefined): boolean {
  return status === FilterHeadersStatus.Continue || status === FilterHeadersStatus.ContinueAndEndStream;
}

export class HttpStream {
  readonly filters: FilterContext[];
  readonly requestHeaders: HeaderList;
  readonly requestTrailers: HeaderList;
  responseHeaders: HeaderList = [];
  responseTrailers: HeaderList = [];
  readonly filterState = new Map<string, Uint8Array>();
  routeDecision?: RouteDecision;
  /** True while on_log runs: every header map is readable then. */
  logging = false;
  private requestChunks: Uint8Array[];
  private upstreamBody: Uint8Array = new Uint8Array(0);
  private responseChunks: Uint8Array[] = [];
  private responseBody: Uint8Array = new Uint8Array(0);
  private requestBodySize = 0;
  private upstreamSentAt = 0;
  private readonly startedAt: number;
  private upstreamInfo?: StreamResult['upstream'];
  private localReplyInfo?: StreamResult['localReply'];
  private responseCodeDetails = '';
  private resetReason?: string;
  private finished = false;
  /** The result once the stream completed. */
  outcome?: StreamResult;
  private resolveDone!: (r: StreamResult) => void;
  readonly done: Promise<StreamResult>;
  /** Where the request is in the chain: the next filter index per phase. */
  private requestStage: { phase: Phase | 'upstream'; index: number; chunk: number } = { phase: 'headers', index: 0, chunk: 0 };
  private responseStage: { phase: Phase | 'complete'; index: number; chunk: number } = { phase: 'headers', index: 0, chunk: 0 };
  private responding = false;
  /** Envoy's response flags (StreamInfo::CoreResponseFlag bits) for response.flags. */
  private responseFlags = 0;
  /** The upstream (or the host on its behalf) has answered: later answers are ignored. */
  private upstreamAnswered = false;
  /** Where in the response order the response starts: after a filter whose reply replaced it. */
  private responseStart = 0;
  /** The response headers have passed every filter: the client has them. */
  private responseHeadersSent = false;
  /** The last filter (by index) that may see the response: all of them, or up to a local replier. */
  private responseFrom: number;

  constructor(
    private readonly host: StreamHost,
    plugins: Plugin[],
    worker: number,
    headers: HeaderList,
    body: Uint8Array[],
    trailers: HeaderList,
    private readonly options: StreamOptions,
  ) {
    this.requestHeaders = headers;
    this.requestChunks = body.filter((c) => c.length > 0);
    if (options.http1 && this.requestChunks.length > 0 && trailers.length === 0) this.requestChunks.push(new Uint8Array(0));
    this.requestTrailers = trailers;
    this.startedAt = host.now();
    this.done = new Promise((resolve) => { this.resolveDone = resolve; });
    this.filters = plugins.map((p, i) => new FilterContext(this, p, p.vms[worker % p.vms.length], i));
    this.responseFrom = this.filters.length - 1;
    // Envoy's connection manager picks the route before the filters run; a filter that changes
    // headers must clear the route cache for the router to decide again.
    this.routeDecision = host.route(this.requestHeaders);
  }

  headerMapOf(type: number): HeaderList | undefined {
    switch (type) {
      case HeaderMapType.RequestHeaders: return this.requestHeaders;
      case HeaderMapType.RequestTrailers: return this.requestTrailers;
      case HeaderMapType.ResponseHeaders: return this.responseHeaders;
      case HeaderMapType.ResponseTrailers: return this.responseTrailers;
      default: return undefined;
    }
  }

  start(): void {
    this.createContexts();
    this.runRequest();
  }

  private createContexts(): void {
    for (const f of this.filters) {
      if (!f.vm.failed) f.vm.call('proxy_on_context_create', f.contextId, f.contextId, f.plugin.rootContextId(f.vm));
    }
  }

  /** The codec refused the request (headers too large, say): no filter sees it, each logs it. */
  private lengthAddedByCodec = false;

  rejectByCodec(status: number, details: string, text: string, extraHeaders: HeaderList = []): void {
    this.createContexts();
    this.requestHeaders.length = 0;
    this.responding = true;
    this.upstreamAnswered = true;
    this.responseCodeDetails = details;
    this.responseBody = encoder.encode(text);
    // Without a body Envoy sends no content-type, and its codec adds content-length: 0 last.
    this.responseHeaders = text ? [[':status', String(status)], ...extraHeaders, ['content-length', String(this.responseBody.length)], ['content-type', 'text/plain']]
      : [[':status', String(status)], ...extraHeaders];
    this.lengthAddedByCodec = !text;
    this.complete();
  }

  // ---- request path ------------------------------------------------------------------------

  private runRequest(): void {
    while (!this.finished && !this.responding) {
      const stage = this.requestStage;
      if (stage.phase === 'upstream') { this.sendUpstream(); return; }
      if (stage.phase === 'headers') {
        if (stage.index >= this.filters.length) { this.nextRequestPhase(); continue; }
        if (!this.runHeaders('request', stage.index)) return;
        stage.index++;
      } else if (stage.phase === 'body') {
        if (stage.chunk >= this.requestChunks.length) { this.nextRequestPhase(); continue; }
        if (!this.pushBody('request', stage.index, this.requestChunks[stage.chunk], stage.chunk === this.requestChunks.length - 1 && this.requestTrailers.length === 0)) return;
        stage.chunk++;
        stage.index = 0;
      } else {
        if (stage.index >= this.filters.length) { this.nextRequestPhase(); continue; }
        if (!this.runTrailers('request', stage.index)) return;
        stage.index++;
      }
    }
  }

  private nextRequestPhase(): void {
    const stage = this.requestStage;
    if (stage.phase === 'headers') Object.assign(stage, { phase: this.requestChunks.length ? 'body' : this.requestTrailers.length ? 'trailers' : 'upstream', index: 0, chunk: 0 });
    else if (stage.phase === 'body') Object.assign(stage, { phase: this.requestTrailers.length ? 'trailers' : 'upstream', index: 0 });
    else stage.phase = 'upstream';
  }

  /** Runs one filter's headers callback; false when the stream must wait (stop or local reply). */
  private runHeaders(direction: Direction, index: number): boolean {
    const f = this.filters[index];
    if (this.skipFailed(f)) return !this.finished && !(direction === 'request' && this.responding);
    const type = direction === 'request' ? HeaderMapType.RequestHeaders : HeaderMapType.ResponseHeaders;
    const headers = direction === 'request' ? this.requestHeaders : this.responseHeaders;
    const endOfStream = direction === 'request'
      ? this.requestChunks.length === 0 && this.requestTrailers.length === 0
      : this.responseChunks.length === 0 && this.responseTrailers.length === 0;
    f.open.add(type);
    f.continued[direction] = false;
    const status = this.callFilter(f, direction, 'headers', direction === 'request' ? 'proxy_on_request_headers' : 'proxy_on_response_headers',
      ...(f.vm.abi === '0.1.0' ? [headers.length] : [headers.length, endOfStream ? 1 : 0]));
    return this.afterCallback(f, direction, 'headers', status, headersContinue(status), endOfStream);
  }

  private runTrailers(direction: Direction, index: number): boolean {
    const f = this.filters[index];
    if (this.skipFailed(f)) return !this.finished;
    const type = direction === 'request' ? HeaderMapType.RequestTrailers : HeaderMapType.ResponseTrailers;
    const trailers = direction === 'request' ? this.requestTrailers : this.responseTrailers;
    f.open.add(type);
    f.continued[direction] = false;
    const status = this.callFilter(f, direction, 'trailers', direction === 'request' ? 'proxy_on_request_trailers' : 'proxy_on_response_trailers', trailers.length);
    const proceed = this.afterCallback(f, direction, 'trailers', status, status === 0 || status === undefined, true);
    if (proceed) this.releaseHeld(f, direction);
    return proceed;
  }

  /**
   * A filter that buffered body chunks and then let the trailers pass releases the body first,
   * so the filters after it (and the upstream) get the body before the trailers.
   */
  private releaseHeld(f: FilterContext, direction: Direction): void {
    const held = f.buffered[direction];
    if (held.length === 0) return;
    f.buffered[direction] = new Uint8Array(0);
    const order = this.order(direction);
    const next = order[order.indexOf(f.index) + 1];
    if (next !== undefined) this.pushBody(direction, next, held, false);
    else if (direction === 'request') this.upstreamBody = concat(this.upstreamBody, held);
    else this.responseBody = concat(this.responseBody, held);
  }

  /**
   * Pushes one body chunk from filter `index` onwards. Returns false when a filter holds it
   * and the stream must wait for continue.
   */
  private pushBody(direction: Direction, index: number, chunk: Uint8Array, endOfStream: boolean): boolean {
    let data = chunk;
    const order = this.order(direction);
    for (let k = order.indexOf(index); k < order.length; k++) {
      const f = this.filters[order[k]];
      if (this.skipFailed(f)) { if (this.finished) return false; continue; }
      // Only after StopIterationAndBuffer does a callback see the whole body so far; after a
      // watermark stop it sees the new chunk while the earlier ones wait in Envoy's buffer.
      const watermarked = f.watermarked[direction];
      f.buffered[direction] = watermarked ? f.buffered[direction] : concat(f.buffered[direction], data);
      f.currentBody = { direction, bytes: watermarked ? data : f.buffered[direction] };
      f.continued[direction] = false;
      const status = this.callFilter(f, direction, 'body', direction === 'request' ? 'proxy_on_request_body' : 'proxy_on_response_body',
        f.currentBody.bytes.length, endOfStream ? 1 : 0);
      const held = watermarked ? concat(f.buffered[direction], f.currentBody.bytes) : f.currentBody.bytes;
      f.currentBody = undefined;
      f.watermarked[direction] = false;
      if (f.localReply || this.finished) { f.buffered[direction] = new Uint8Array(0); return this.afterCallback(f, direction, 'body', status, false, endOfStream); }
      if (f.vm.failed) { if (!this.onFilterFailed(f)) return false; data = held; f.buffered[direction] = new Uint8Array(0); continue; }
      const proceed = status === FilterDataStatus.Continue || status === undefined || f.continued[direction];
      if (proceed) {
        data = held;
        f.buffered[direction] = new Uint8Array(0);
        continue;
      }
      // Stopped: Buffer/Watermark keep the data for the next call; NoBuffer (and any unknown
      // status, which Envoy converts to it) drops it.
      const noBuffer = status >= FilterDataStatus.StopIterationNoBuffer;
      f.buffered[direction] = noBuffer ? new Uint8Array(0) : held;
      f.watermarked[direction] = status === FilterDataStatus.StopIterationAndWatermark;
      if (endOfStream) {
        this.wait(f, { direction, phase: 'body', endOfStream });
        return false;
      }
      return true;
    }
    if (direction === 'request') this.upstreamBody = concat(this.upstreamBody, data);
    else this.responseBody = concat(this.responseBody, data);
    return true;
  }

  private callFilter(f: FilterContext, direction: Direction, phase: Phase, name: string, ...args: number[]): number | undefined {
    f.inCallback = { direction, phase };
    const status = f.vm.call(name, f.contextId, f.contextId, ...args);
    f.inCallback = undefined;
    return status;
  }

  /** Applies a callback's outcome: true to go on with the next filter, false to wait or stop. */
  private afterCallback(f: FilterContext, direction: Direction, phase: Phase, status: number | undefined, proceed: boolean, endOfStream: boolean): boolean {
    if (this.finished) return false;
    if (f.vm.failed && !f.failedHere) return this.onFilterFailed(f);
    if (f.localReply && this.ignoreLateReply(f)) return true;
    if (f.localReply) { this.startLocalReply(f); return false; }
    if (proceed || f.continued[direction] || status === undefined) {
      this.closeWindow(f, direction, phase);
      return true;
    }
    this.wait(f, { direction, phase, endOfStream });
    return false;
  }

  /** The stream idle timer Envoy runs while nothing happens on a stream (5 minutes by default). */
  private idleTimer?: unknown;

  private wait(f: FilterContext, where: { direction: Direction; phase: Phase; endOfStream: boolean }): void {
    f.waiting = where;
    this.host.clock.cancel(this.idleTimer as never);
    this.idleTimer = this.host.clock.schedule(this.host.streamIdleTimeoutMs, () => {
      if (this.finished || !f.waiting) return;
      f.waiting = undefined;
      this.respondFromHost(408, 'stream_idle_timeout', 'stream timeout', RESPONSE_FLAG.StreamIdleTimeout);
    });
  }

  private closeWindow(f: FilterContext, direction: Direction, phase: Phase): void {
    if (phase === 'headers') f.open.delete(direction === 'request' ? HeaderMapType.RequestHeaders : HeaderMapType.ResponseHeaders);
    if (phase === 'trailers') f.open.delete(direction === 'request' ? HeaderMapType.RequestTrailers : HeaderMapType.ResponseTrailers);
  }

  /** A filter called continue_stream (after its VM call returned). */
  onContinue(f: FilterContext, direction: Direction): void {
    if (this.finished) return;
    if (f.inCallback?.direction === direction || !f.waiting || f.waiting.direction !== direction) {
      f.continued[direction] = true;
      return;
    }
    const waiting = f.waiting;
    f.waiting = undefined;
    f.watermarked[direction] = false;
    this.host.clock.cancel(this.idleTimer as never);
    this.closeWindow(f, direction, waiting.phase);
    if (waiting.phase === 'trailers') this.releaseHeld(f, direction);
    if (waiting.phase === 'body') {
      const held = f.buffered[direction];
      f.buffered[direction] = new Uint8Array(0);
      const order = this.order(direction);
      const next = order[order.indexOf(f.index) + 1];
      if (next === undefined) {
        if (direction === 'request') this.upstreamBody = concat(this.upstreamBody, held);
        else this.responseBody = concat(this.responseBody, held);
      } else if (!this.pushBody(direction, next, held, waiting.endOfStream)) {
        return;
      }
    }
    if (direction === 'request') {
      if (waiting.phase !== 'body') this.requestStage.index++;
      else { this.requestStage.chunk++; this.requestStage.index = 0; }
      this.runRequest();
    } else {
      if (waiting.phase !== 'body') this.responseStage.index++;
      else { this.responseStage.chunk++; this.responseStage.index = 0; }
      this.runResponse();
    }
  }

  /** Skips a filter whose VM has failed: true to go on (fail open), false after a 503 (fail closed). */
  private skipFailed(f: FilterContext): boolean {
    if (!f.vm.failed) return false;
    if (!f.failedHere) this.onFilterFailed(f);
    return true;
  }

  /** Envoy's reaction to a failed VM: fail open passes, fail closed answers 503 wasm_fail_stream. */
  private onFilterFailed(f: FilterContext): boolean {
    f.failedHere = true;
    if (f.plugin.failOpen) return true;
    if (this.responding && f.index > this.responseFrom) return true;
    f.localReply = { status: 503, details: 'wasm_fail_stream', body: new Uint8Array(0), headers: [], grpcStatus: GrpcStatus.Unavailable };
    this.startLocalReply(f, true);
    return false;
  }

  // ---- local replies -----------------------------------------------------------------------

  onLocalReply(f: FilterContext): void {
    if (this.finished || f.inCallback) return;
    if (this.ignoreLateReply(f)) return;
    f.waiting = undefined;
    this.startLocalReply(f);
  }

  /**
   * A reply sent after the response headers went to the client cannot replace the response:
   * Envoy goes on with the response it has, and logs no details for it.
   */
  private ignoreLateReply(f: FilterContext): boolean {
    if (!this.responseHeadersSent || !f.localReply) return false;
    f.localReply = undefined;
    this.responseCodeDetails = '';
    return true;
  }

  private startLocalReply(f: FilterContext, byHost = false): void {
    const reply = f.localReply!;
    f.localReply = undefined;
    this.localReplyInfo = { status: reply.status, details: reply.details, plugin: f.plugin.name };
    this.responseCodeDetails = reply.details;
    const isGrpc = (this.requestHeaders.find(([k]) => k === 'content-type')?.[1] ?? '').startsWith('application/grpc');
    const headers: HeaderList = [];
    if (isGrpc) {
      headers.push([':status', '200'], ['content-type', 'application/grpc'],
        ['grpc-status', String(reply.grpcStatus >= 0 ? reply.grpcStatus : httpToGrpc(reply.status))]);
      if (reply.body.length) headers.push(['grpc-message', decoder.decode(reply.body)]);
    } else {
      headers.push([':status', String(reply.status)]);
    }
    for (const [k, v] of reply.headers) headers.push([k.toLowerCase(), v]);
    if (!isGrpc && reply.body.length > 0) {
      headers.push(['content-length', String(reply.body.length)]);
      // Envoy types the body as text only when the filter did not.
      if (!headers.some(([k]) => k === 'content-type')) headers.push(['content-type', 'text/plain']);
    }
    const wasResponding = this.responding;
    this.responseHeaders = headers;
    this.responseTrailers = [];
    this.responseChunks = isGrpc || reply.body.length === 0 ? [] : [reply.body];
    this.responseBody = new Uint8Array(0);
    for (const other of this.filters) { other.waiting = undefined; other.buffered.response = new Uint8Array(0); }
    if (!wasResponding) {
      // A reply to the request passes through the response callbacks of the filter that sent
      // it and of those before it; the failed filter itself (byHost) is not called again.
      this.responseFrom = byHost ? f.index - 1 : f.index;
      this.responding = true;
      this.responseStage = { phase: 'headers', index: 0, chunk: 0 };
      this.responseStart = 0;
    } else {
      // A reply sent while handling the response replaces it; only the rest of the chain sees it.
      const order = this.order('response');
      this.responseStart = order.indexOf(f.index) + 1;
      this.responseStage = { phase: 'headers', index: this.responseStart, chunk: 0 };
    }
    this.runResponse();
  }

  // ---- upstream and response path ----------------------------------------------------------

  private sendUpstream(): void {
    this.routeDecision ??= this.host.route(this.requestHeaders);
    const decision = this.routeDecision;
    if (!decision.cluster) {
      const status = decision.status ?? 404;
      this.respondFromHost(status, decision.reason ?? 'route_not_found', status === 404 ? '' : 'no healthy upstream',
        status === 404 ? RESPONSE_FLAG.NoRouteFound : RESPONSE_FLAG.NoClusterFound);
      return;
    }
    // The router tells the upstream how long it will wait (the route's timeout).
    if (!this.requestHeaders.some(([k]) => k === 'x-envoy-expected-rq-timeout-ms')) {
      this.requestHeaders.push(['x-envoy-expected-rq-timeout-ms', String(this.host.routeTimeoutMs)]);
    }
    const request: UpstreamRequest = {
      cluster: decision.cluster,
      headers: this.requestHeaders.map(([k, v]) => [k, v]),
      body: this.upstreamBody,
      trailers: this.requestTrailers.map(([k, v]) => [k, v]),
    };
    this.requestBodySize = this.upstreamBody.length;
    this.upstreamSentAt = this.host.now();
    this.upstreamInfo = { cluster: decision.cluster, headers: request.headers, body: request.body, trailers: request.trailers };
    this.responding = true;
    let answer: ReturnType<StreamHost['upstream']>;
    try {
      answer = this.host.upstream(request);
    } catch (error) {
      this.respondFromHost(503, connectFailure(error as Error), CONNECT_FAILURE_TEXT, RESPONSE_FLAG.UpstreamConnectionFailure);
      return;
    }
    const { response, kind } = answer;
    if (!(response instanceof Promise)) {
      this.onUpstreamResponse(response);
      return;
    }
    let forget = () => {};
    const timer = this.host.clock.schedule(this.host.routeTimeoutMs, () => {
      forget();
      this.respondFromHost(504, 'upstream_response_timeout', 'upstream request timeout', RESPONSE_FLAG.UpstreamRequestTimeout);
    });
    const work = response.then(
      (r) => { this.host.clock.cancel(timer as never); this.host.watchdog.run(() => 'the response', () => this.onUpstreamResponse(r)); },
      (error) => {
        this.host.clock.cancel(timer as never);
        this.host.watchdog.run(() => 'the response', () =>
          this.respondFromHost(503, connectFailure(error as Error), CONNECT_FAILURE_TEXT, RESPONSE_FLAG.UpstreamConnectionFailure));
      },
    );
    forget = this.host.track(work, kind);
  }

  /** A reply Envoy itself makes (no route, no upstream, timeouts), with Envoy's body text. */
  private respondFromHost(status: number, details: string, text = '', flags = 0): void {
    if (this.finished || this.upstreamAnswered) return;
    this.upstreamAnswered = true;
    this.responseFlags = flags;
    this.responding = true;
    this.responseCodeDetails = details;
    const body = encoder.encode(text);
    this.responseHeaders = [[':status', String(status)]];
    if (body.length) this.responseHeaders.push(['content-length', String(body.length)], ['content-type', 'text/plain']);
    this.responseChunks = body.length ? [body] : [];
    this.responseTrailers = [];
    this.responseStage = { phase: 'headers', index: 0, chunk: 0 };
    this.responseStart = 0;
    this.runResponse();
  }

  private onUpstreamResponse(response: UpstreamResponse): void {
    if (this.finished || this.upstreamAnswered) return;
    if (response.reset) {
      this.respondFromHost(503, 'upstream_reset_before_response_started{remote_reset}', 'upstream connect error or disconnect/reset before headers', RESPONSE_FLAG.UpstreamRemoteReset);
      return;
    }
    this.upstreamAnswered = true;
    this.responseCodeDetails = 'via_upstream';
    const headers = toList(response.headers).filter(([k]) => k !== ':status');
    // Envoy's router tells the client how long the upstream took, before the filters see the headers.
    this.responseHeaders = [[':status', String(response.status)], ...headers, ['x-envoy-upstream-service-time', String(Math.round(this.host.now() - this.upstreamSentAt))]];
    const chunks = Array.isArray(response.body) ? response.body.map(toBytes) : [toBytes(response.body)];
    this.responseChunks = chunks.filter((c) => c.length > 0);
    this.responseTrailers = toList(response.trailers);
    // Upstreams speak HTTP/1 to Envoy: the end of the message comes as an empty body callback.
    if (this.responseChunks.length > 0 && this.responseTrailers.length === 0) this.responseChunks.push(new Uint8Array(0));
    this.responseStage = { phase: 'headers', index: 0, chunk: 0 };
    this.runResponse();
  }

  /** Filter indexes in the order a direction visits them. */
  private order(direction: Direction): number[] {
    const all = this.filters.map((f) => f.index);
    if (direction === 'request') return all;
    return all.filter((i) => i <= this.responseFrom).reverse();
  }

  private runResponse(): void {
    const order = this.order('response');
    while (!this.finished) {
      const stage = this.responseStage;
      if (stage.phase === 'complete') { this.complete(); return; }
      if (stage.phase === 'headers') {
        if (stage.index >= order.length) { this.nextResponsePhase(); continue; }
        if (!this.runHeaders('response', order[stage.index])) return;
        stage.index++;
      } else if (stage.phase === 'body') {
        if (stage.chunk >= this.responseChunks.length) { this.nextResponsePhase(); continue; }
        const last = stage.chunk === this.responseChunks.length - 1 && this.responseTrailers.length === 0;
        const from = order[stage.index];
        if (from === undefined) this.responseBody = concat(this.responseBody, this.responseChunks[stage.chunk]);
        else if (!this.pushBody('response', from, this.responseChunks[stage.chunk], last)) return;
        stage.chunk++;
        stage.index = this.responseStart;
      } else {
        if (stage.index >= order.length) { this.nextResponsePhase(); continue; }
        if (!this.runTrailers('response', order[stage.index])) return;
        stage.index++;
      }
    }
  }

  private nextResponsePhase(): void {
    const stage = this.responseStage;
    if (stage.phase === 'headers') this.responseHeadersSent = true;
    if (stage.phase === 'headers') Object.assign(stage, { phase: this.responseChunks.length ? 'body' : this.responseTrailers.length ? 'trailers' : 'complete', index: this.responseStart, chunk: 0 });
    else if (stage.phase === 'body') Object.assign(stage, { phase: this.responseTrailers.length ? 'trailers' : 'complete', index: this.responseStart });
    else stage.phase = 'complete';
  }

  reset(reason: string): void {
    if (this.finished) return;
    this.resetReason = reason;
    this.responseCodeDetails = reason;
    this.complete();
  }

  // ---- completion --------------------------------------------------------------------------

  /**
   * What Envoy's connection manager does to the response after the filters: it drops the
   * upstream's connection header and adds date and server (on_log sees them).
   */
  private encodeForClient(): void {
    const headers = this.responseHeaders.filter(([k]) => k !== 'connection');
    headers.push(['date', new Date(this.host.now()).toUTCString()], ['server', 'envoy']);
    if (this.lengthAddedByCodec) headers.push(['content-length', '0']);
    this.responseHeaders = headers;
  }

  private complete(): void {
    if (this.finished) return;
    this.finished = true;
    this.host.clock.cancel(this.idleTimer as never);
    if (!this.resetReason) this.encodeForClient();
    this.logging = true;
    for (const f of this.filters) if (!f.vm.failed) f.vm.call('proxy_on_log', f.contextId, f.contextId);
    this.logging = false;
    for (const f of this.filters) if (!f.vm.failed) f.vm.call('proxy_on_done', f.contextId, f.contextId);
    for (const f of this.filters) {
      if (!f.vm.failed) f.vm.call('proxy_on_delete', f.contextId, f.contextId);
      f.vm.contexts.delete(f.contextId);
    }
    this.outcome = this.result();
    this.resolveDone(this.outcome);
  }

  /** Describes a stream that stopped with nothing left to continue it (as Envoy would hang until a timeout). */
  stalledResult(): StreamResult | undefined {
    if (this.finished) return undefined;
    const f = this.filters.find((x) => x.waiting);
    const where = f?.waiting;
    return {
      ...this.result(),
      status: 0,
      stalled: {
        plugin: f?.plugin.name ?? '(none)',
        direction: where?.direction ?? 'request',
        phase: where?.phase ?? 'headers',
        description: f && where
          ? `${f.plugin.name} stopped at ${where.direction} ${where.phase} and nothing is left that could continue it (Envoy would wait until the stream times out)`
          : 'the stream is waiting for the upstream',
      },
    };
  }

  private result(): StreamResult {
    const status = Number(this.responseHeaders.find(([k]) => k === ':status')?.[1] ?? 0);
    return {
      status: this.resetReason ? 0 : status,
      headers: withFraming(this.responseHeaders, status, this.responseBody, this.responseTrailers),
      body: decoder.decode(this.responseBody),
      bodyBytes: this.responseBody,
      trailers: this.responseTrailers,
      localReply: this.localReplyInfo,
      upstream: this.upstreamInfo,
      route: this.routeDecision,
      resetReason: this.resetReason,
      filterState: this.filterState,
      responseCodeDetails: this.responseCodeDetails,
    };
  }

  // ---- attributes --------------------------------------------------------------------------

  /**
   * An attribute as `reader` sees it: request.* comes from the request headers, which Envoy lets
   * a filter read only until it continues them (and again in on_log).
   */
  property(path: string[], reader: FilterContext): Uint8Array | undefined {
    const key = path.join('.');
    const extra = this.options.attributes.get(key);
    if (extra) return extra;
    const [top, ...rest] = path;
    if (top === 'request' && HEADER_DERIVED.has(rest[0]) && !this.logging && !reader.open.has(HeaderMapType.RequestHeaders)) {
      return undefined;
    }
    const header = (list: HeaderList, name: string) => list.find(([k]) => k === name)?.[1];
    const req = this.requestHeaders;
    const fullPath = header(req, ':path') ?? '';
    switch (top) {
      case 'request': {
        const name = rest[0];
        if (name === 'headers') {
          if (rest.length === 1) return encode.map(req.filter(([k]) => !k.startsWith(':')));
          const values = req.filter(([k]) => k === rest[1].toLowerCase()).map(([, v]) => v);
          return values.length ? encode.string(values.join(',')) : undefined;
        }
        if (rest.length !== 1) return undefined;
        const optional = (v: string | undefined) => (v === undefined ? undefined : encode.string(v));
        switch (name) {
          case 'path': return encode.string(fullPath);
          case 'url_path': return encode.string(fullPath.split('?')[0]);
          case 'host': return encode.string(header(req, ':authority') ?? '');
          case 'scheme': return encode.string(header(req, ':scheme') ?? 'http');
          case 'method': return encode.string(header(req, ':method') ?? '');
          case 'referer': return optional(header(req, 'referer'));
          case 'useragent': return optional(header(req, 'user-agent'));
          case 'id': return optional(header(req, 'x-request-id') ?? this.options.requestId);
          case 'protocol': return encode.string(this.options.protocol);
          case 'query': return encode.string(fullPath.includes('?') ? fullPath.slice(fullPath.indexOf('?') + 1) : '');
          case 'time': return encode.nanos(this.startedAt);
          case 'duration': return this.finished ? encode.nanos(this.host.now() - this.startedAt) : undefined;
          case 'size': { const v = header(req, 'content-length'); return encode.int(v === undefined ? this.requestBodySize : Number(v)); }
          case 'total_size': return encode.int(this.requestBodySize + headerBytes(req));
          case 'headers_bytes': return encode.int(headerBytes(req));
          default: return undefined;
        }
      }
      case 'response': {
        if (!this.responding && this.responseHeaders.length === 0) return undefined;
        const res = this.responseHeaders;
        const name = rest[0];
        if (name === 'headers' || name === 'trailers') {
          const list = name === 'headers' ? res.filter(([k]) => !k.startsWith(':')) : this.responseTrailers;
          if (rest.length === 1) return encode.map(list);
          const values = list.filter(([k]) => k === rest[1].toLowerCase()).map(([, v]) => v);
          return values.length ? encode.string(values.join(',')) : undefined;
        }
        if (rest.length !== 1) return undefined;
        switch (name) {
          case 'code': { const code = Number(header(res, ':status') ?? 0); return code ? encode.int(code) : undefined; }
          case 'code_details': return encode.string(this.responseCodeDetails);
          case 'flags': return encode.int(this.responseFlags);
          case 'grpc_status': {
            const v = header(this.responseTrailers, 'grpc-status') ?? header(res, 'grpc-status');
            return v === undefined ? undefined : encode.int(Number(v));
          }
          case 'size': return encode.int(this.responseBody.length);
          case 'total_size': return encode.int(this.responseBody.length + headerBytes(res));
          case 'headers_bytes': return encode.int(headerBytes(res));
          default: return undefined;
        }
      }
      case 'source':
      case 'destination': {
        const address = top === 'source' ? this.options.source : this.options.destination;
        if (rest[0] === 'address') return encode.string(address);
        if (rest[0] === 'port') return encode.int(Number(address.slice(address.lastIndexOf(':') + 1)) || 0);
        return undefined;
      }
      case 'connection': {
        if (rest[0] === 'id') return encode.uint(this.options.connectionId);
        const tls = this.options.tls;
        const peer = tls?.peerCertificate;
        if (rest[0] === 'mtls') return encode.bool(peer !== undefined);
        const optional = (v: string | undefined) => (v === undefined ? undefined : encode.string(v));
        switch (rest[0]) {
          case 'tls_version': return optional(tls ? tls.version ?? 'TLSv1.3' : undefined);
          case 'requested_server_name': return encode.string(tls?.sni ?? '');
          case 'uri_san_peer_certificate': return optional(peer?.uriSan);
          case 'dns_san_peer_certificate': return optional(peer?.dnsSan);
          case 'subject_peer_certificate': return optional(peer?.subject);
          default: return undefined;
        }
      }
      case 'metadata':
        if (rest.length === 0) return protoMetadata(this.options.dynamicMetadata);
        return rest[0] === 'filter_metadata' ? celValue(lookupJson(this.options.dynamicMetadata, rest.slice(1))) : undefined;
      case 'connection_id':
        return encode.uint(this.options.connectionId);
      case 'upstream':
        if (!this.upstreamInfo) return undefined;
        if (rest[0] === 'address') return encode.string(`${this.upstreamInfo.cluster}:80`);
        if (rest[0] === 'port') return encode.int(80);
        return undefined;
      case 'xds':
        if (rest[0] === 'route_name') return this.routeDecision?.route?.name !== undefined ? encode.string(this.routeDecision.route.name) : undefined;
        if (rest[0] === 'cluster_name') return this.routeDecision?.cluster ? encode.string(this.routeDecision.cluster) : undefined;
        return undefined;
      case 'filter_state': {
        const object = this.options.filterStateObjects[rest[0]];
        if (object) return rest.length > 1 ? celValue(lookupJson(object, rest.slice(1))) : encode.map([]);
        return rest.length ? this.filterState.get(rest.join('.')) : undefined;
      }
      default:
        // Any other name is a property a module stored with set_property (under its first segment).
        return this.filterState.get(`wasm.${top}`);
    }
  }
}

/** Envoy's response flag bits for the replies host-sim makes itself. */
const RESPONSE_FLAG = {
  UpstreamRequestTimeout: 1 << 2, UpstreamRemoteReset: 1 << 4, UpstreamConnectionFailure: 1 << 5,
  NoRouteFound: 1 << 8, StreamIdleTimeout: 1 << 16, NoClusterFound: 1 << 24,
} as const;

function headerBytes(list: HeaderList): number {
  return list.reduce((n, [k, v]) => n + k.length + v.length, 0);
}

/** request.* attributes Envoy derives from the request headers. */
const HEADER_DERIVED = new Set(['path', 'url_path', 'host', 'scheme', 'method', 'headers', 'referer', 'useragent', 'id', 'query', 'size']);

/** Envoy's mapping of an HTTP status to a gRPC status for local replies to gRPC requests. */
function httpToGrpc(status: number): number {
  switch (status) {
    case 400: return GrpcStatus.Internal;
    case 401: return GrpcStatus.Unauthenticated;
    case 403: return GrpcStatus.PermissionDenied;
    case 404: return GrpcStatus.Unimplemented;
    case 429: case 502: case 503: case 504: return GrpcStatus.Unavailable;
    default: return GrpcStatus.Unknown;
  }
}
