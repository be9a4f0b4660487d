// The classes a filter extends: RootContext (one per plugin configuration in each VM) and
// Context (one per HTTP stream), with the callbacks Envoy drives and the callouts they make.
import { proxy_done, proxy_grpc_call, proxy_grpc_stream, proxy_http_call } from "./internal/imports";
import { OUT_WORD } from "./internal/memory";
import { encode3, aPtr, aLen, bPtr, bLen, cPtr, cLen } from "./internal/utf8";
import { BaseContext } from "./base-context";
import { grpcCalls, httpCalls, GrpcCallHandler, GrpcStream, GrpcStreamResult, HttpCallback, HttpCallResponse } from "./callout";
import {
  FilterDataStatusValues, FilterHeadersStatusValues, FilterMetadataStatusValues, FilterStatusValues,
  FilterTrailersStatusValues, PeerTypeValues, WasmResultValues,
} from "./enums";
import { Headers, serializeHeaders } from "./pairs";
import { set_tick_period_milliseconds } from "./time";

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
