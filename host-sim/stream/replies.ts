// The replies Envoy makes itself (no route, no upstream, timeouts, resets) and the shape of a
// filter's local reply on the wire, in Envoy's words and with its response flags.
import { GrpcStatus } from '../abi.js';
import type { LocalReply } from '../vm.js';
import type { HeaderList } from './types.js';

const decoder = new TextDecoder();

/** Envoy's response flag bits for the replies host-sim makes itself. */
export const RESPONSE_FLAG = {
  UpstreamRequestTimeout: 1 << 2, UpstreamRemoteReset: 1 << 4, UpstreamConnectionFailure: 1 << 5, UpstreamConnectionTermination: 1 << 6,
  NoRouteFound: 1 << 8, DownstreamConnectionTermination: 1 << 14, UpstreamRetryLimitExceeded: 1 << 15, StreamIdleTimeout: 1 << 16, NoClusterFound: 1 << 24,
} as const;

/** The body Envoy answers with when the upstream reset or could not be reached (after retries or not). */
export function resetText(reason: string, retried: boolean): string {
  return `upstream connect error or disconnect/reset before headers. ${retried ? 'retried and the latest reset reason' : 'reset reason'}: ${reason}`;
}

/** Envoy's response code details for an upstream it could not reach. */
export function connectFailure(error: Error): string {
  const refused = /ECONNREFUSED/.test(error.message) ? '|delayed_connect_error:_Connection_refused' : '';
  return `upstream_reset_before_response_started{remote_connection_failure${refused}}`;
}

/**
 * The response headers as Envoy's HTTP/1 codec sends them: a response that ends without a body
 * gets `content-length: 0` unless its status forbids a body.
 */
export function withFraming(headers: HeaderList, status: number, body: Uint8Array, trailers: HeaderList): HeaderList {
  const bodyless = status < 200 || status === 204 || status === 304;
  if (bodyless || body.length > 0 || trailers.length > 0 || headers.some(([k]) => k === 'content-length' || k === 'transfer-encoding')) return headers;
  return [...headers, ['content-length', '0']];
}

/**
 * A local reply's response headers: to a gRPC request the status travels as grpc-status (and the
 * body as grpc-message) in a 200; otherwise the body is typed as text unless the filter typed it.
 */
export function localReplyHeaders(reply: LocalReply, grpc: boolean): HeaderList {
  const headers: HeaderList = [];
  if (grpc) {
    headers.push([':status', '200'], ['content-type', 'application/grpc'],
      ['grpc-status', String(reply.grpcStatus >= 0 ? reply.grpcStatus : httpToGrpc(reply.status))]);
    if (reply.body.length) headers.push(['grpc-message', decoder.decode(reply.body)]);
  } else {
    headers.push([':status', String(reply.status)]);
  }
  for (const [k, v] of reply.headers) headers.push([k.toLowerCase(), v]);
  if (!grpc && reply.body.length > 0) {
    headers.push(['content-length', String(reply.body.length)]);
    if (!headers.some(([k]) => k === 'content-type')) headers.push(['content-type', 'text/plain']);
  }
  return headers;
}

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
