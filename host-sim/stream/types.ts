// The shapes a stream deals in: what reaches the upstream and comes back, what the host gives
// a stream, the connection it runs on, and what a test gets when it ends.
import type { HeaderList } from '../pairs.js';
import type { RouteDecision } from '../router.js';
import type { Watchdog } from '../watchdog.js';

export type { HeaderList };
export type Direction = 'request' | 'response';
export type Phase = 'headers' | 'body' | 'trailers';

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
  /** A uniform draw in [0, 1) (the router's retry back-off jitter). */
  readonly random: () => number;
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

/** What one filter did to the stream (StreamResult.filters), in chain order. */
export interface FilterTrace {
  plugin: string;
  /** Its writes to the header maps, in order: "request headers: set x-route-cluster: reviews-v2". */
  edits: string[];
  /** It cleared the route cache itself (so the router picked the route again). */
  clearedRouteCache: boolean;
  /** The local reply it sent: "403 (rbac_access_denied_matched_policy[deny])". */
  replied?: string;
  /** Why its VM failed, if it did. */
  failed?: string;
}

export interface StreamResult {
  /** The status the client received (0 when the stream was reset or stalled). */
  status: number;
  headers: HeaderList;
  body: string;
  bodyBytes: Uint8Array;
  trailers: HeaderList;
  /** What each filter did, in chain order. */
  filters: FilterTrace[];
  /** Set when a filter (or the host, for a failed VM) answered instead of the upstream. */
  localReply?: { status: number; details: string; plugin: string };
  /** What reached the upstream (on the last attempt), which cluster served it, and how many attempts the router made. */
  upstream?: { cluster: string; headers: HeaderList; body: Uint8Array; trailers: HeaderList; attempts: number };
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
