// HTTP and gRPC callouts as Envoy's async client makes them: tokens numbered per VM and kind,
// timeouts on the virtual clock, responses delivered to the calling context (gRPC unary ones
// to its root context, as Envoy 1.40 does), and cancelled when the context is gone.
import { GrpcStatus, WasmResult } from './abi.js';
import { asBytes, concatBytes } from './bytes.js';
import type { Timer, VirtualClock } from './clock.js';
import type { GrpcCallRequest, HttpCallRequest } from './host-functions/index.js';
import { headerList } from './pairs.js';
import type { UpstreamRequest, UpstreamResponse } from './stream/types.js';
import type { RealServers } from './platform.js';
import type { ClusterSpec, GrpcReply, GrpcStreamCall } from './upstreams.js';
import type { WasmVm } from './vm.js';

export interface CalloutRecord {
  kind: 'http' | 'grpc' | 'grpc-stream';
  plugin: string;
  cluster: string;
  token: number;
  headers: [string, string][];
  body: Uint8Array;
  service?: string;
  method?: string;
  /** How it ended: a status code, "timeout", "cancelled", or undefined while pending. */
  outcome?: string;
}

interface PendingCallout {
  record: CalloutRecord;
  vm: WasmVm;
  contextId: number;
  timer?: Timer;
  settled: boolean;
  cancel?: () => void;
  forget?: () => void;
  /** Virtual time the callout was sent (ms). */
  sentAt?: number;
  /** A stream to a real gRPC server. */
  stream?: GrpcStreamCall;
}

export class Callouts {
  /** Every callout made, in order, with how it ended. */
  readonly records: CalloutRecord[] = [];
  private readonly byToken = new Map<string, PendingCallout>();
  private readonly tokens = new WeakMap<WasmVm, { http: number; grpc: number; stream: number }>();
  constructor(
    private readonly clock: VirtualClock,
    private readonly clusters: Map<string, ClusterSpec>,
    /** Clients for clusters given as a server's URL. */
    private readonly servers: RealServers,
    /** Tracks work in flight (see Host.track); the returned function forgets it. */
    private readonly track: (work: Promise<unknown>, kind?: 'network' | 'handler') => () => void,
  ) {}

  /** Stops the callouts' timers (the host closes the servers' clients). */
  close(): void {
    for (const c of this.byToken.values()) this.clock.cancel(c.timer);
  }

  private nextToken(vm: WasmVm, kind: 'http' | 'grpc' | 'stream'): number {
    // cpp-host: one counter per callout type per VM, the type in the low two bits.
    let t = this.tokens.get(vm);
    if (!t) { t = { http: 0, grpc: 1, stream: 2 }; this.tokens.set(vm, t); }
    t[kind] += 4;
    return t[kind];
  }

  private key(vm: WasmVm, token: number): string { return `${vm.id}:${token}`; }

  httpCall(vm: WasmVm, contextId: number, request: HttpCallRequest): { result: number; token?: number } {
    const cluster = this.clusters.get(request.cluster);
    if (!cluster || (!cluster.http && !cluster.url)) return { result: WasmResult.BadArgument };
    // Envoy lower-cases the names a module gives (it builds the message with LowerCaseString).
    const given = request.headers.map(([k, v]) => [k.toLowerCase(), v] as [string, string]);
    const has = (name: string) => given.some(([k]) => k === name);
    if (!has(':method') || !has(':path') || !has(':authority')) return { result: WasmResult.BadArgument };
    const token = this.nextToken(vm, 'http');
    const record: CalloutRecord = { kind: 'http', plugin: vm.owner.name, cluster: request.cluster, token, headers: given, body: request.body };
    this.records.push(record);
    const pending: PendingCallout = { record, vm, contextId, settled: false };
    this.byToken.set(this.key(vm, token), pending);
    const sentAt = this.clock.now();
    pending.sentAt = sentAt;
    if (request.timeoutMs > 0) {
      // Envoy's async client answers a timeout itself, as its router does: 504 with a text body.
      pending.timer = this.clock.schedule(request.timeoutMs, () => this.settleHttp(pending, { status: 504,
        headers: [['content-length', '24'], ['content-type', 'text/plain']], body: 'upstream request timeout' }, 'timeout'));
    }
    // Envoy marks its own callouts internal.
    const headers: [string, string][] = [...given, ['x-envoy-internal', 'true']];
    if (request.timeoutMs > 0) headers.push(['x-envoy-expected-rq-timeout-ms', String(request.timeoutMs)]);
    if (request.body.length > 0 && !has('content-length')) headers.push(['content-length', String(request.body.length)]);
    const upstreamRequest: UpstreamRequest = { cluster: request.cluster, headers, body: request.body, trailers: request.trailers };
    const work = (async () => (cluster.http ? cluster.http(upstreamRequest) : this.servers.http(cluster.url!, upstreamRequest)))()
      .then((response) => this.settleHttp(pending, response, String(response.status)),
        (error) => this.settleHttp(pending, undefined, `failed: ${(error as Error).message}`));
    pending.forget = this.track(work, cluster.http ? 'handler' : 'network');
    return { result: WasmResult.Ok, token };
  }

  /** Marks a callout finished; true when its context can still receive the result. */
  private finish(pending: PendingCallout, outcome: string): boolean {
    if (pending.settled) return false;
    pending.settled = true;
    pending.record.outcome = outcome;
    this.clock.cancel(pending.timer);
    pending.forget?.();
    this.byToken.delete(this.key(pending.vm, pending.record.token));
    // Envoy cancels the callouts of a context that is gone.
    return pending.vm.contexts.has(pending.contextId) && !pending.vm.failed;
  }

  private settleHttp(pending: PendingCallout, response: UpstreamResponse | undefined, outcome: string): void {
    if (!this.finish(pending, outcome)) return;
    const { vm, contextId } = pending;
    if (!response || response.reset) {
      vm.call('proxy_on_http_call_response', contextId, contextId, pending.record.token, 0, 0, 0);
      return;
    }
    const headers: [string, string][] = [[':status', String(response.status)], ...headerList(response.headers as never).filter(([k]) => k !== ':status')];
    // The async client's router adds the upstream time, as for routed requests.
    if (outcome !== 'timeout') headers.push(['x-envoy-upstream-service-time', String(Math.round(this.clock.now() - (pending.sentAt ?? 0)))]);
    const body = response.body === undefined ? new Uint8Array(0)
      : Array.isArray(response.body) ? concatBytes(...response.body.map(asBytes)) : asBytes(response.body);
    const trailers = headerList(response.trailers as never);
    vm.callbackData = { kind: 'http', headers, body, trailers };
    try {
      vm.call('proxy_on_http_call_response', contextId, contextId, pending.record.token, headers.length, body.length, trailers.length);
    } finally {
      vm.callbackData = {};
    }
  }

  grpcCall(vm: WasmVm, contextId: number, request: GrpcCallRequest): { result: number; token?: number } {
    const cluster = this.clusters.get(request.cluster);
    if (!cluster || (!cluster.grpc && !cluster.url)) return { result: WasmResult.ParseFailure };
    const token = this.nextToken(vm, 'grpc');
    const record: CalloutRecord = { kind: 'grpc', plugin: vm.owner.name, cluster: request.cluster, token,
      headers: request.metadata, body: request.message ?? new Uint8Array(0), service: request.service, method: request.method };
    this.records.push(record);
    const pending: PendingCallout = { record, vm, contextId, settled: false };
    this.byToken.set(this.key(vm, token), pending);
    if (request.timeoutMs > 0) {
      pending.timer = this.clock.schedule(request.timeoutMs, () => {
        pending.cancel?.();
        this.settleGrpc(pending, { status: GrpcStatus.DeadlineExceeded, message: 'timeout' }, 'timeout');
      });
    }
    const grpcRequest = { service: request.service, method: request.method, metadata: request.metadata, message: request.message ?? new Uint8Array(0) };
    let reply: Promise<GrpcReply>;
    if (cluster.grpc) {
      reply = (async () => cluster.grpc!(grpcRequest))();
    } else {
      const call = this.servers.grpcUnary(cluster.url!, grpcRequest, request.timeoutMs);
      pending.cancel = call.cancel;
      reply = call.reply;
    }
    const work = reply.then(
      (r) => { if (!r.hang) this.settleGrpc(pending, r, String(r.status ?? 0)); },
      (error) => this.settleGrpc(pending, { status: GrpcStatus.Unavailable, message: (error as Error).message }, 'failed'));
    pending.forget = this.track(work, cluster.grpc ? 'handler' : 'network');
    return { result: WasmResult.Ok, token };
  }

  /**
   * Ends a call. A unary call ends as Envoy ends it (measured on 1.40): at the plugin's root
   * context, the response alone on success (no metadata callbacks, no close), or the close with
   * the status on failure. A stream ends with its trailing metadata and the close.
   */
  private settleGrpc(pending: PendingCallout, reply: GrpcReply, outcome: string): void {
    if (!this.finish(pending, outcome)) return;
    const { vm } = pending;
    const token = pending.record.token;
    const status = reply.status ?? 0;
    const deliver = (name: string, contextId: number, data: typeof vm.callbackData, ...args: number[]) => {
      vm.callbackData = data;
      try { vm.call(name, contextId, contextId, token, ...args); } finally { vm.callbackData = {}; }
    };
    if (pending.record.kind === 'grpc') {
      const caller = vm.contexts.get(pending.contextId);
      const root = caller?.kind === 'stream' ? caller.rootContextId : pending.contextId;
      if (status === 0) {
        const body = reply.response ?? new Uint8Array(0);
        deliver('proxy_on_grpc_receive', root, { kind: 'grpc', body }, body.length);
        return;
      }
      vm.lastStatus = { code: status, message: reply.message ?? '' };
      deliver('proxy_on_grpc_close', root, { kind: 'grpc' }, status);
      return;
    }
    if (reply.trailingMetadata?.length) {
      deliver('proxy_on_grpc_receive_trailing_metadata', pending.contextId, { kind: 'grpc', trailers: reply.trailingMetadata }, reply.trailingMetadata.length);
    }
    vm.lastStatus = { code: status, message: reply.message ?? '' };
    deliver('proxy_on_grpc_close', pending.contextId, { kind: 'grpc' }, status);
  }

  grpcStream(vm: WasmVm, contextId: number, request: GrpcCallRequest): { result: number; token?: number } {
    const cluster = this.clusters.get(request.cluster);
    if (!cluster || (!cluster.grpc && !cluster.url)) return { result: WasmResult.ParseFailure };
    const token = this.nextToken(vm, 'stream');
    const record: CalloutRecord = { kind: 'grpc-stream', plugin: vm.owner.name, cluster: request.cluster, token,
      headers: request.metadata, body: new Uint8Array(0), service: request.service, method: request.method };
    this.records.push(record);
    const pending: PendingCallout = { record, vm, contextId, settled: false };
    this.byToken.set(this.key(vm, token), pending);
    if (cluster.url) {
      const stream = this.servers.grpcStream(cluster.url, request.service, request.method, request.metadata, {
        metadata: (md) => this.deliverGrpc(pending, 'proxy_on_grpc_receive_initial_metadata', { kind: 'grpc', headers: md }, md.length),
        message: (bytes) => this.deliverGrpc(pending, 'proxy_on_grpc_receive', { kind: 'grpc', body: bytes }, bytes.length),
        end: (status, message, trailers) => this.settleGrpc(pending, { status, message, trailingMetadata: trailers }, String(status)),
      });
      pending.stream = stream;
      pending.cancel = () => stream.cancel();
      pending.forget = this.track(stream.done, 'network');
    }
    return { result: WasmResult.Ok, token };
  }

  /** Delivers one gRPC event to the module, with the data the callback may read. */
  private deliverGrpc(pending: PendingCallout, name: string, data: WasmVm['callbackData'], ...args: number[]): void {
    const { vm, contextId } = pending;
    if (pending.settled || !vm.contexts.has(contextId) || vm.failed) return;
    vm.callbackData = data;
    try { vm.call(name, contextId, contextId, pending.record.token, ...args); } finally { vm.callbackData = {}; }
  }

  grpcSend(vm: WasmVm, token: number, message: Uint8Array, endStream: boolean): number {
    const pending = this.byToken.get(this.key(vm, token));
    if (!pending || pending.record.kind !== 'grpc-stream') return WasmResult.NotFound;
    if (pending.stream) {
      pending.stream.write(message, endStream);
      return WasmResult.Ok;
    }
    const cluster = this.clusters.get(pending.record.cluster)!;
    const work = (async () => cluster.grpc!({ service: pending.record.service!, method: pending.record.method!, metadata: pending.record.headers, message }))()
      .then((reply) => {
        if (pending.settled || reply.hang) return;
        if (reply.response && (reply.status ?? 0) === 0) this.deliverGrpc(pending, 'proxy_on_grpc_receive', { kind: 'grpc', body: reply.response }, reply.response.length);
        if (endStream || (reply.status ?? 0) !== 0) this.settleGrpc(pending, { status: reply.status ?? 0, message: reply.message }, String(reply.status ?? 0));
      }, (error) => this.settleGrpc(pending, { status: GrpcStatus.Unknown, message: `handler failed: ${(error as Error).message}` }, 'failed'));
    this.track(work);
    return WasmResult.Ok;
  }

  grpcCancel(vm: WasmVm, token: number): number {
    const pending = this.byToken.get(this.key(vm, token));
    if (!pending) return WasmResult.NotFound;
    pending.cancel?.();
    this.finish(pending, 'cancelled');
    return WasmResult.Ok;
  }

  /**
   * Envoy closes a unary call by cancelling it (no callback follows) and a stream by
   * half-closing it: the server then finishes and on_grpc_close arrives later.
   */
  grpcClose(vm: WasmVm, token: number): number {
    const pending = this.byToken.get(this.key(vm, token));
    if (!pending) return WasmResult.NotFound;
    if (pending.record.kind !== 'grpc-stream') {
      pending.cancel?.();
      this.finish(pending, 'closed');
      return WasmResult.Ok;
    }
    if (pending.stream) pending.stream.end();
    else this.track(Promise.resolve().then(() => this.settleGrpc(pending, { status: 0 }, 'closed')));
    return WasmResult.Ok;
  }
}
