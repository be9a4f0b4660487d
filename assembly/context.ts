import { grpcCalls, httpCalls } from "./internal/callouts";
import { proxy_done, proxy_get_status, proxy_grpc_call, proxy_grpc_cancel, proxy_grpc_close, proxy_grpc_send, proxy_grpc_stream,
  proxy_http_call, proxy_set_effective_context } from "./internal/imports";
import { OUT_PTR, OUT_SIZE, OUT_WORD, resetReturned, takeReturnedString } from "./internal/memory";
import { encode3, aPtr, aLen, bPtr, bLen, cPtr, cLen } from "./internal/utf8";
import {
  FilterDataStatusValues, FilterHeadersStatusValues, FilterMetadataStatusValues, FilterStatusValues,
  FilterTrailersStatusValues, GrpcStatusValues, PeerTypeValues, WasmResultValues,
} from "./enums";
import { Headers, serializeHeaders } from "./pairs";
import { continue_request, continue_response } from "./stream";
import { set_tick_period_milliseconds } from "./time";

/** What RootContext and Context share: an id the host assigned. */
export abstract class BaseContext {
  context_id: u32;

  constructor(context_id: u32) {
    this.context_id = context_id;
  }

  /** Makes later host calls act on this context (e.g. from a callout response on another context). */
  setEffectiveContext(): WasmResultValues {
    return <WasmResultValues>proxy_set_effective_context(this.context_id);
  }

  continueRequest(): WasmResultValues { return continue_request(); }
  continueResponse(): WasmResultValues { return continue_response(); }

  /** The host is done with this context; return false to finish later with `done()` (root only). */
  onDone(): bool { return true; }

  /** The context is gone; no more callbacks will come for it. */
  onDelete(): void {}
}

/** Receives the response of an http call (as @solo-io/proxy-runtime; headers is 0 on failure or timeout). */
export type HttpCallResponse = (origin_context: BaseContext, headers: u32, body_size: usize, trailers: u32) => void;

export class HttpCallback {
  constructor(public origin_context: BaseContext, public cb: HttpCallResponse) {}
}

/**
 * Receives the events of a gRPC call or stream. Subclass it and keep any state the response
 * needs in fields (AssemblyScript has no closures). Headers and metadata are read through
 * stream_context.grpc_metadata during the callback.
 */
export class GrpcCallHandler {
  /** The call's token, once the host accepted it. */
  token: u32 = 0;
  /** A unary call (grpcCall), not a stream. */
  unary: bool = false;

  /** The context callbacks run as; null runs them as the root context. */
  constructor(public context: BaseContext | null = null) {}

  /** Cancels the call or stream: no more callbacks arrive for it. */
  cancel(): WasmResultValues {
    grpcCalls.delete(this.token);
    return <WasmResultValues>proxy_grpc_cancel(this.token);
  }

  onInitialMetadata(count: u32): void {}
  /**
   * One response message. A unary call gets exactly one, then onClose(Ok): Envoy sends a
   * successful unary call's response alone (no close follows it), and the SDK closes it.
   */
  onMessage(message: ArrayBuffer): void {}
  onTrailingMetadata(count: u32): void {}
  /** The call ended; status Ok after a response, else the failure and its message. */
  onClose(status: GrpcStatusValues, message: string): void {}
}

/** An open gRPC stream: send messages, then close (half-close: replies still arrive) or cancel. */
export class GrpcStream {
  constructor(public token: u32) {}
  send(message: ArrayBuffer, end_stream: bool = false): WasmResultValues {
    return <WasmResultValues>proxy_grpc_send(this.token, changetype<usize>(message), message.byteLength, end_stream ? 1 : 0);
  }
  close(): WasmResultValues { return <WasmResultValues>proxy_grpc_close(this.token); }
  cancel(): WasmResultValues {
    grpcCalls.delete(this.token);
    return <WasmResultValues>proxy_grpc_cancel(this.token);
  }
}

export class StatusResult {
  constructor(public code: u32, public message: string) {}
}

/** The status the host reported last (e.g. for on_grpc_close): a gRPC status code and message. */
export function get_status(): StatusResult {
  resetReturned();
  store<u32>(OUT_WORD, 0);
  let message = "";
  if (proxy_get_status(OUT_WORD, OUT_PTR, OUT_SIZE) == WasmResultValues.Ok) message = takeReturnedString();
  return new StatusResult(load<u32>(OUT_WORD), message);
}

export class GrpcStreamResult {
  constructor(public result: WasmResultValues, public stream: GrpcStream | null) {}
}

/**
 * One per plugin configuration (Envoy's root_id) in each VM: holds configuration and state
 * shared by the streams it creates.
 */
export class RootContext extends BaseContext {
  private configuration_: string = "";
  private configurationBytes_: ArrayBuffer = new ArrayBuffer(0);

  constructor(context_id: u32) {
    super(context_id);
  }

  /** The plugin configuration as text ("" when none was given). */
  getConfiguration(): string { return this.configuration_; }

  /** The plugin configuration as bytes, for binary formats. */
  getConfigurationBytes(): ArrayBuffer { return this.configurationBytes_; }

  /** Called by the SDK before onConfigure. */
  setConfiguration(bytes: ArrayBuffer): void {
    this.configurationBytes_ = bytes;
    this.configuration_ = String.UTF8.decode(bytes);
  }

  /** Override to create this plugin's stream context. */
  createContext(context_id: u32): Context {
    return new Context(context_id, this);
  }

  /** The VM started; `vm_configuration_size` bytes of vm configuration are readable. False rejects the plugin. */
  onStart(vm_configuration_size: usize): bool { return true; }

  /** The plugin configuration arrived (see getConfiguration). False rejects it, and Envoy keeps the old one. */
  onConfigure(configuration_size: u32): bool { return true; }

  validateConfiguration(configuration_size: usize): bool { return true; }

  onTick(): void {}

  onQueueReady(token: u32): void {}

  onForeignFunction(function_id: u32, data_size: u32): void {}

  /** Calls onTick every `milliseconds` (0 stops it). */
  setTickPeriod(milliseconds: u32): WasmResultValues { return set_tick_period_milliseconds(milliseconds); }

  /** Finishes a shutdown that onDone deferred by returning false. */
  done(): WasmResultValues { return <WasmResultValues>proxy_done(); }

  /**
   * Sends an HTTP request to `cluster` (`headers` must hold :method, :path and :authority).
   * `cb` runs later as `origin_context`, with headers 0 when the call failed or timed out.
   */
  httpCall(cluster: string, headers: Headers, body: ArrayBuffer, trailers: Headers, timeout_milliseconds: u32,
    origin_context: BaseContext, cb: HttpCallResponse): WasmResultValues {
    const cluster_bytes = String.UTF8.encode(cluster);
    const header_pairs = serializeHeaders(headers);
    const trailer_pairs = serializeHeaders(trailers);
    store<u32>(OUT_WORD, 0);
    const result = <WasmResultValues>proxy_http_call(changetype<usize>(cluster_bytes), cluster_bytes.byteLength,
      changetype<usize>(header_pairs), header_pairs.byteLength, changetype<usize>(body), body.byteLength,
      changetype<usize>(trailer_pairs), trailer_pairs.byteLength, timeout_milliseconds, OUT_WORD);
    if (result == WasmResultValues.Ok) httpCalls.set(load<u32>(OUT_WORD), new HttpCallback(origin_context, cb));
    return result;
  }

  /**
   * Makes a unary gRPC call to `cluster`: `request` is the serialized request message.
   * The handler receives the response message and then the close.
   */
  grpcCall(cluster: string, service: string, method: string, metadata: Headers, request: ArrayBuffer,
    timeout_milliseconds: u32, handler: GrpcCallHandler): WasmResultValues {
    const pairs = serializeHeaders(metadata);
    encode3(cluster, service, method);
    store<u32>(OUT_WORD, 0);
    const result = <WasmResultValues>proxy_grpc_call(aPtr, aLen, bPtr, bLen, cPtr, cLen,
      changetype<usize>(pairs), pairs.byteLength, changetype<usize>(request), request.byteLength,
      timeout_milliseconds, OUT_WORD);
    if (result == WasmResultValues.Ok) {
      handler.token = load<u32>(OUT_WORD);
      handler.unary = true;
      grpcCalls.set(handler.token, handler);
    }
    return result;
  }

  /** Opens a gRPC stream to `cluster`; messages go out with GrpcStream.send. */
  grpcStream(cluster: string, service: string, method: string, metadata: Headers, handler: GrpcCallHandler): GrpcStreamResult {
    const pairs = serializeHeaders(metadata);
    encode3(cluster, service, method);
    store<u32>(OUT_WORD, 0);
    const result = <WasmResultValues>proxy_grpc_stream(aPtr, aLen, bPtr, bLen, cPtr, cLen,
      changetype<usize>(pairs), pairs.byteLength, OUT_WORD);
    if (result != WasmResultValues.Ok) return new GrpcStreamResult(result, null);
    const token = load<u32>(OUT_WORD);
    handler.token = token;
    grpcCalls.set(token, handler);
    return new GrpcStreamResult(result, new GrpcStream(token));
  }
}

/** One per HTTP stream: override the callbacks the filter needs; the rest let the stream pass. */
export class Context extends BaseContext {
  root_context: RootContext;

  constructor(context_id: u32, root_context: RootContext) {
    super(context_id);
    this.root_context = root_context;
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues { return FilterHeadersStatusValues.Continue; }
  onRequestBody(body_buffer_length: usize, end_of_stream: bool): FilterDataStatusValues { return FilterDataStatusValues.Continue; }
  onRequestTrailers(trailers: u32): FilterTrailersStatusValues { return FilterTrailersStatusValues.Continue; }
  onRequestMetadata(elements: u32): FilterMetadataStatusValues { return FilterMetadataStatusValues.Continue; }
  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues { return FilterHeadersStatusValues.Continue; }
  onResponseBody(body_buffer_length: usize, end_of_stream: bool): FilterDataStatusValues { return FilterDataStatusValues.Continue; }
  onResponseTrailers(trailers: u32): FilterTrailersStatusValues { return FilterTrailersStatusValues.Continue; }
  onResponseMetadata(elements: u32): FilterMetadataStatusValues { return FilterMetadataStatusValues.Continue; }

  /** After the stream completed: request and response headers are readable here, for access logs. */
  onLog(): void {}

  // Network (L4) filter callbacks.
  onNewConnection(): FilterStatusValues { return FilterStatusValues.Continue; }
  onDownstreamData(size: usize, end: bool): FilterStatusValues { return FilterStatusValues.Continue; }
  onUpstreamData(size: usize, end: bool): FilterStatusValues { return FilterStatusValues.Continue; }
  onDownstreamConnectionClose(peer: PeerTypeValues): void {}
  onUpstreamConnectionClose(peer: PeerTypeValues): void {}
}

export type RootContextFactory = (context_id: u32) => RootContext;
