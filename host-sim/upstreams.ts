// Clusters: where the router and callouts send requests. A cluster is a test function, or a
// real server on loopback reached over HTTP/1.1 (router, http_call) or HTTP/2 (gRPC), through
// the runtime's clients (platform.ts; Node's are in node/servers.ts).
import type { UpstreamRequest, UpstreamResponse } from './stream/types.js';

export interface GrpcRequest {
  service: string;
  method: string;
  metadata: [string, string][];
  /** The request message bytes (for streams, each message sent). */
  message: Uint8Array;
}

export interface GrpcReply {
  /** gRPC status (default 0 OK). */
  status?: number;
  message?: string;
  /** The response message bytes. */
  response?: Uint8Array;
  initialMetadata?: [string, string][];
  trailingMetadata?: [string, string][];
  /** Never answer (the call then times out on the virtual clock). */
  hang?: boolean;
}

export type HttpHandler = (request: UpstreamRequest) => UpstreamResponse | Promise<UpstreamResponse>;
export type GrpcHandler = (request: GrpcRequest) => GrpcReply | Promise<GrpcReply>;

export interface ClusterSpec {
  /** Answers HTTP requests (routed requests and http_call). */
  http?: HttpHandler;
  /** Answers unary gRPC calls and each message of a gRPC stream. */
  grpc?: GrpcHandler;
  /** A real server, e.g. "http://127.0.0.1:8080": HTTP/1.1 for HTTP, HTTP/2 cleartext for gRPC. */
  url?: string;
}

/** A cluster given as a function is an HTTP handler; as a string, a real server's URL. */
export type ClusterInput = ClusterSpec | HttpHandler | string;

export function normalizeCluster(input: ClusterInput): ClusterSpec {
  if (typeof input === 'function') return { http: input };
  if (typeof input === 'string') return { url: input };
  return input;
}

export interface StreamEvents {
  metadata(pairs: [string, string][]): void;
  message(bytes: Uint8Array): void;
  end(status: number, message: string, trailers: [string, string][]): void;
}

export interface GrpcStreamCall {
  write(message: Uint8Array, endStream: boolean): void;
  end(): void;
  cancel(): void;
  /** Settles when the server closed the stream. */
  done: Promise<void>;
}
