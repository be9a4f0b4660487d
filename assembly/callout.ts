// Callouts a context makes: the http callback, gRPC call handlers and streams, the host's last
// status, and the calls waiting for their responses (internal/callouts.ts delivers them).
import { proxy_get_status, proxy_grpc_cancel, proxy_grpc_close, proxy_grpc_send } from "./internal/imports";
import { OUT_PTR, OUT_SIZE, OUT_WORD, resetReturned, takeReturnedString } from "./internal/memory";
import { BaseContext } from "./base-context";
import { GrpcStatusValues, WasmResultValues } from "./enums";

/** Calls waiting for their response, by token (tokens are unique per VM). */
export const httpCalls = new Map<u32, HttpCallback>();
export const grpcCalls = new Map<u32, GrpcCallHandler>();

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
