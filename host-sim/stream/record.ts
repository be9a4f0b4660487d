// What a stream holds and reports: its headers, bodies and trailers in both directions, the
// route, the reply's origin and details, and the result a test reads. HttpStream drives it;
// attribute lookups read it.
import { HeaderMapType } from '../abi.js';
import type { RouteDecision } from '../router.js';
import { withFraming } from './replies.js';
import type { HeaderList, StreamOptions, StreamResult } from './types.js';

const decoder = new TextDecoder();

export class StreamRecord {
  readonly requestHeaders: HeaderList;
  readonly requestTrailers: HeaderList;
  responseHeaders: HeaderList = [];
  responseTrailers: HeaderList = [];
  /** The response body as the client gets it (after every filter). */
  responseBody: Uint8Array = new Uint8Array(0);
  /** The request body's size as it reached the upstream. */
  requestBodySize = 0;
  readonly filterState = new Map<string, Uint8Array>();
  routeDecision?: RouteDecision;
  /**
   * The route xds.route_name and xds.cluster_name report: Envoy's stream info keeps the route
   * resolved last, so after clear_route_cache they still name the old one until the router
   * resolves again (measured on Envoy 1.40: host/cluster-name-after-reroute).
   */
  reportedRoute?: RouteDecision;
  /** True while on_log runs: every header map is readable then. */
  logging = false;
  /** The response has begun (from the upstream, a local reply or Envoy itself). */
  responding = false;
  finished = false;
  responseCodeDetails = '';
  /** Envoy's response flags (StreamInfo::CoreResponseFlag bits) for response.flags. */
  responseFlags = 0;
  upstreamInfo?: StreamResult['upstream'];
  protected localReplyInfo?: StreamResult['localReply'];
  protected resetReason?: string;
  /** The codec's own reply had no body: its content-length: 0 comes last, after date and server. */
  protected lengthAddedByCodec = false;

  constructor(readonly options: StreamOptions, readonly startedAt: number, headers: HeaderList, trailers: HeaderList) {
    this.requestHeaders = headers;
    this.requestTrailers = trailers;
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

  /**
   * What Envoy's connection manager does to the response after the filters: it drops the
   * upstream's connection header and adds date and server (on_log sees them).
   */
  protected encodeForClient(now: number): void {
    const headers = this.responseHeaders.filter(([k]) => k !== 'connection');
    headers.push(['date', new Date(now).toUTCString()], ['server', 'envoy']);
    if (this.lengthAddedByCodec) headers.push(['content-length', '0']);
    this.responseHeaders = headers;
  }

  /** The result, with the trace of what each filter did (the chain keeps the filters). */
  protected result(filters: StreamResult['filters']): StreamResult {
    const status = Number(this.responseHeaders.find(([k]) => k === ':status')?.[1] ?? 0);
    return {
      status: this.resetReason ? 0 : status,
      headers: withFraming(this.responseHeaders, status, this.responseBody, this.responseTrailers),
      body: decoder.decode(this.responseBody),
      bodyBytes: this.responseBody,
      trailers: this.responseTrailers,
      filters,
      localReply: this.localReplyInfo,
      upstream: this.upstreamInfo,
      route: this.routeDecision,
      resetReason: this.resetReason,
      filterState: this.filterState,
      responseCodeDetails: this.responseCodeDetails,
    };
  }
}
