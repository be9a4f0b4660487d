// How the filter manager runs one filter's callback and what its answer does: the header
// access windows, body buffering (whole-body and watermark stops), waiting for continue with
// the idle timer running, and failed VMs (fail open, or 503 when closed). HttpStream decides
// what comes next; this is the step it repeats.
import { FilterDataStatus, FilterHeadersStatus, GrpcStatus, HeaderMapType } from '../abi.js';
import { concatBytes } from '../bytes.js';
import type { FilterContext } from './filter-context.js';
import { StreamRecord } from './record.js';
import { RESPONSE_FLAG } from './replies.js';
import type { Direction, Phase, StreamHost } from './types.js';

/** Header StopIteration and other non-Continue codes Envoy turns into a stop. */
function headersContinue(status: number | undefined): boolean {
  return status === FilterHeadersStatus.Continue || status === FilterHeadersStatus.ContinueAndEndStream;
}

export abstract class FilterWalk extends StreamRecord {
  abstract readonly filters: FilterContext[];
  protected abstract readonly host: StreamHost;
  protected requestChunks: Uint8Array[] = [];
  protected upstreamBody: Uint8Array = new Uint8Array(0);
  protected responseChunks: Uint8Array[] = [];
  /** The response headers have passed every filter: the client has them. */
  protected responseHeadersSent = false;
  /** The last filter (by index) that may see the response: all of them, or up to a local replier. */
  protected responseFrom = 0;

  /** Answers with a filter's local reply (`byHost`: the host's 503 for a failed VM). */
  protected abstract startLocalReply(f: FilterContext, byHost?: boolean): void;
  /** A reply Envoy itself makes (no route, no upstream, timeouts), with Envoy's body text. */
  protected abstract respondFromHost(status: number, details: string, text?: string, flags?: number): void;

  /** Runs one filter's headers callback; false when the stream must wait (stop or local reply). */
  protected runHeaders(direction: Direction, index: number): boolean {
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

  protected runTrailers(direction: Direction, index: number): boolean {
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
  protected releaseHeld(f: FilterContext, direction: Direction): void {
    const held = f.buffered[direction];
    if (held.length === 0) return;
    f.buffered[direction] = new Uint8Array(0);
    const order = this.order(direction);
    const next = order[order.indexOf(f.index) + 1];
    if (next !== undefined) this.pushBody(direction, next, held, false);
    else if (direction === 'request') this.upstreamBody = concatBytes(this.upstreamBody, held);
    else this.responseBody = concatBytes(this.responseBody, held);
  }

  /**
   * Pushes one body chunk from filter `index` onwards. Returns false when a filter holds it
   * and the stream must wait for continue.
   */
  protected pushBody(direction: Direction, index: number, chunk: Uint8Array, endOfStream: boolean): boolean {
    let data = chunk;
    const order = this.order(direction);
    for (let k = order.indexOf(index); k < order.length; k++) {
      const f = this.filters[order[k]];
      if (this.skipFailed(f)) { if (this.finished) return false; continue; }
      // Only after StopIterationAndBuffer does a callback see the whole body so far; after a
      // watermark stop it sees the new chunk while the earlier ones wait in Envoy's buffer.
      const watermarked = f.watermarked[direction];
      f.buffered[direction] = watermarked ? f.buffered[direction] : concatBytes(f.buffered[direction], data);
      f.currentBody = { direction, bytes: watermarked ? data : f.buffered[direction] };
      f.continued[direction] = false;
      const status = this.callFilter(f, direction, 'body', direction === 'request' ? 'proxy_on_request_body' : 'proxy_on_response_body',
        f.currentBody.bytes.length, endOfStream ? 1 : 0);
      const held = watermarked ? concatBytes(f.buffered[direction], f.currentBody.bytes) : f.currentBody.bytes;
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
    if (direction === 'request') this.upstreamBody = concatBytes(this.upstreamBody, data);
    else this.responseBody = concatBytes(this.responseBody, data);
    return true;
  }

  protected callFilter(f: FilterContext, direction: Direction, phase: Phase, name: string, ...args: number[]): number | undefined {
    f.inCallback = { direction, phase };
    const status = f.vm.call(name, f.contextId, f.contextId, ...args);
    f.inCallback = undefined;
    return status;
  }

  /** Applies a callback's outcome: true to go on with the next filter, false to wait or stop. */
  protected afterCallback(f: FilterContext, direction: Direction, phase: Phase, status: number | undefined, proceed: boolean, endOfStream: boolean): boolean {
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
  protected idleTimer?: unknown;

  protected wait(f: FilterContext, where: { direction: Direction; phase: Phase; endOfStream: boolean }): void {
    f.waiting = where;
    this.host.clock.cancel(this.idleTimer as never);
    this.idleTimer = this.host.clock.schedule(this.host.streamIdleTimeoutMs, () => {
      if (this.finished || !f.waiting) return;
      f.waiting = undefined;
      this.respondFromHost(408, 'stream_idle_timeout', 'stream timeout', RESPONSE_FLAG.StreamIdleTimeout);
    });
  }

  protected closeWindow(f: FilterContext, direction: Direction, phase: Phase): void {
    if (phase === 'headers') f.open.delete(direction === 'request' ? HeaderMapType.RequestHeaders : HeaderMapType.ResponseHeaders);
    if (phase === 'trailers') f.open.delete(direction === 'request' ? HeaderMapType.RequestTrailers : HeaderMapType.ResponseTrailers);
  }

  /** Skips a filter whose VM has failed: true to go on (fail open), false after a 503 (fail closed). */
  protected skipFailed(f: FilterContext): boolean {
    if (!f.vm.failed) return false;
    if (!f.failedHere) this.onFilterFailed(f);
    return true;
  }

  /** Envoy's reaction to a failed VM: fail open passes, fail closed answers 503 wasm_fail_stream. */
  protected onFilterFailed(f: FilterContext): boolean {
    f.failedHere = true;
    if (f.plugin.failOpen) return true;
    if (this.responding && f.index > this.responseFrom) return true;
    f.localReply = { status: 503, details: 'wasm_fail_stream', body: new Uint8Array(0), headers: [], grpcStatus: GrpcStatus.Unavailable };
    this.startLocalReply(f, true);
    return false;
  }

  /**
   * A reply sent after the response headers went to the client cannot replace the response:
   * Envoy goes on with the response it has, and logs no details for it.
   */
  protected ignoreLateReply(f: FilterContext): boolean {
    if (!this.responseHeadersSent || !f.localReply) return false;
    f.localReply = undefined;
    this.responseCodeDetails = '';
    return true;
  }

  /** Filter indexes in the order a direction visits them. */
  protected order(direction: Direction): number[] {
    const all = this.filters.map((f) => f.index);
    if (direction === 'request') return all;
    return all.filter((i) => i <= this.responseFrom).reverse();
  }
}
