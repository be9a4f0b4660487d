// One HTTP stream through the filter chain, driven the way Envoy's filter manager drives it:
// request headers, body chunks and trailers through the filters in order, the router and an
// upstream, then the response back through the filters in reverse, then on_log, on_done and
// on_delete for every filter.
import { HeaderMapType } from '../abi.js';
import { streamAttribute } from '../attribute-lookup.js';
import { asBytes, concatBytes } from '../bytes.js';
import { headerList, takeHeader } from '../pairs.js';
import type { Plugin } from '../plugin.js';
import { FilterContext, type FilterChain } from './filter-context.js';
import { FilterWalk } from './filter-walk.js';
import { RetryPolicy, type AttemptOutcome } from './retries.js';
import { filterTrace } from './trace.js';
import { connectFailure, localReplyHeaders, resetText, RESPONSE_FLAG } from './replies.js';
import type { Direction, HeaderList, Phase, StreamHost, StreamOptions, StreamResult, UpstreamRequest, UpstreamResponse } from './types.js';

const textBytes = new TextEncoder();

const REMOTE_RESET: AttemptOutcome = { kind: 'reset', reason: 'remote reset' };

/** No attempt is in flight: nothing to abandon (one function for every stream, not one each). */
const NOTHING_IN_FLIGHT = () => {};

/** A real server that accepted the connection and closed it before answering. */
const terminated = (error: Error) => (error as Error & { code?: string }).code === 'ECONNRESET';

export class HttpStream extends FilterWalk implements FilterChain {
  readonly filters: FilterContext[];
  private upstreamSentAt = 0;
  private upstreamAttempts = 0;
  private retries?: RetryPolicy;
  private routeTimer: unknown;
  private routeTimeoutMs = 0;
  private routeStartedAt = 0;
  /** The result once the stream completed. */
  outcome?: StreamResult;
  private resolveDone!: (r: StreamResult) => void;
  readonly done: Promise<StreamResult>;
  /** Where the request is in the chain: the next filter index per phase. */
  private requestStage: { phase: Phase | 'upstream'; index: number; chunk: number } = { phase: 'headers', index: 0, chunk: 0 };
  private responseStage: { phase: Phase | 'complete'; index: number; chunk: number } = { phase: 'headers', index: 0, chunk: 0 };
  /** The upstream (or the host on its behalf) has answered: later answers are ignored. */
  private upstreamAnswered = false;
  /** Where in the response order the response starts: after a filter whose reply replaced it. */
  private responseStart = 0;

  constructor(
    protected readonly host: StreamHost,
    plugins: Plugin[],
    worker: number,
    headers: HeaderList,
    body: Uint8Array[],
    trailers: HeaderList,
    options: StreamOptions,
  ) {
    super(options, host.now(), headers, trailers);
    this.requestChunks = body.filter((c) => c.length > 0);
    if (options.http1 && this.requestChunks.length > 0 && trailers.length === 0) this.requestChunks.push(new Uint8Array(0));
    this.done = new Promise((resolve) => { this.resolveDone = resolve; });
    this.filters = plugins.map((p, i) => new FilterContext(this, p, p.vms[worker % p.vms.length], i));
    this.responseFrom = this.filters.length - 1;
    // Envoy's connection manager picks the route before the filters run; a filter that changes
    // headers must clear the route cache for the router to decide again.
    this.routeDecision = host.route(this.requestHeaders);
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
  rejectByCodec(status: number, details: string, text: string, extraHeaders: HeaderList = []): void {
    this.createContexts();
    this.requestHeaders.length = 0;
    this.responding = true;
    this.upstreamAnswered = true;
    this.responseCodeDetails = details;
    this.responseBody = textBytes.encode(text);
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
        if (direction === 'request') this.upstreamBody = concatBytes(this.upstreamBody, held);
        else this.responseBody = concatBytes(this.responseBody, held);
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

  // ---- local replies -----------------------------------------------------------------------

  onLocalReply(f: FilterContext): void {
    if (this.finished || f.inCallback) return;
    if (this.ignoreLateReply(f)) return;
    f.waiting = undefined;
    this.startLocalReply(f);
  }

  protected startLocalReply(f: FilterContext, byHost = false): void {
    const reply = f.localReply!;
    f.localReply = undefined;
    this.localReplyInfo = { status: reply.status, details: reply.details, plugin: f.plugin.name };
    this.responseCodeDetails = reply.details;
    const grpc = (this.requestHeaders.find(([k]) => k === 'content-type')?.[1] ?? '').startsWith('application/grpc');
    const headers = localReplyHeaders(reply, grpc);
    const wasResponding = this.responding;
    this.responseHeaders = headers;
    this.responseTrailers = [];
    this.responseChunks = grpc || reply.body.length === 0 ? [] : [reply.body];
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
    const timeoutMs = this.upstreamTimeoutMs();
    this.retries = RetryPolicy.fromHeaders(this.requestHeaders);
    const perTry = this.retries.perTryTimeoutMs;
    // The router tells the upstream how long it will wait for this attempt.
    if (!this.requestHeaders.some(([k]) => k === 'x-envoy-expected-rq-timeout-ms')) {
      const expected = perTry > 0 && (timeoutMs === 0 || perTry < timeoutMs) ? perTry : timeoutMs;
      if (expected > 0) this.requestHeaders.push(['x-envoy-expected-rq-timeout-ms', String(expected)]);
    }
    this.requestBodySize = this.upstreamBody.length;
    this.responding = true;
    this.routeTimeoutMs = timeoutMs;
    this.routeStartedAt = this.host.now();
    this.attempt(decision.cluster);
  }

  /**
   * The route's timeout covers every attempt and the back-off between them. It is armed only
   * when the stream waits (an upstream that answers at once needs none, which keeps tests fast).
   */
  private armRouteTimer(): void {
    if (this.routeTimer !== undefined || this.routeTimeoutMs === 0) return;
    this.routeTimer = this.host.clock.schedule(this.routeTimeLeft(), () => {
      this.abandonAttempt();
      this.respondFromHost(504, 'upstream_response_timeout', 'upstream request timeout', RESPONSE_FLAG.UpstreamRequestTimeout);
    });
  }

  /** What is left of the route's timeout (ms). */
  private routeTimeLeft(): number { return Math.max(0, this.routeStartedAt + this.routeTimeoutMs - this.host.now()); }

  /** One try at the upstream; its outcome decides between answering and retrying. */
  private attempt(cluster: string): void {
    if (this.finished || this.upstreamAnswered) return;
    // A retry is told the time left: the route's, or the per-try timeout when that is shorter.
    if (this.upstreamAttempts > 0 && this.routeTimeoutMs > 0) {
      const left = Math.round(this.routeTimeLeft());
      const perTry = this.retries!.perTryTimeoutMs;
      const expected = this.requestHeaders.find(([k]) => k === 'x-envoy-expected-rq-timeout-ms');
      if (expected) expected[1] = String(perTry > 0 && perTry < left ? perTry : left);
    }
    const request: UpstreamRequest = {
      cluster,
      headers: this.requestHeaders.map(([k, v]) => [k, v]),
      body: this.upstreamBody,
      trailers: this.requestTrailers.map(([k, v]) => [k, v]),
    };
    this.upstreamSentAt = this.host.now();
    this.upstreamAttempts++;
    this.upstreamInfo = { cluster, headers: request.headers, body: request.body, trailers: request.trailers, attempts: this.upstreamAttempts };
    let answer: ReturnType<StreamHost['upstream']>;
    try {
      answer = this.host.upstream(request);
    } catch (error) {
      this.onAttempt(cluster, { kind: 'connect-failure', error: error as Error });
      return;
    }
    const { response, kind } = answer;
    if (!(response instanceof Promise)) {
      this.onAttempt(cluster, response.reset ? REMOTE_RESET : { kind: 'response', response });
      return;
    }
    this.armRouteTimer();
    let settled = false;
    let forget = () => {};
    const perTry = this.retries!.perTryTimeoutMs;
    const perTryTimer = perTry > 0 ? this.host.clock.schedule(perTry, () => {
      settled = true;
      forget();
      this.onAttempt(cluster, { kind: 'per-try-timeout' });
    }) : undefined;
    const settle = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      if (perTryTimer !== undefined) this.host.clock.cancel(perTryTimer as never);
      this.host.watchdog.run(() => 'the response', () => this.onAttempt(cluster, outcome));
    };
    const work = response.then(
      (r) => settle(r.reset ? REMOTE_RESET : { kind: 'response', response: r }),
      (error) => settle(terminated(error as Error) ? { kind: 'reset', reason: 'connection termination' } : { kind: 'connect-failure', error: error as Error }),
    );
    forget = this.host.track(work, kind);
    this.abandonAttempt = () => {
      settled = true;
      if (perTryTimer !== undefined) this.host.clock.cancel(perTryTimer as never);
      forget();
    };
  }

  /** Stops waiting for the attempt in flight (the route's timeout fired). */
  private abandonAttempt: () => void = NOTHING_IN_FLIGHT;

  private onAttempt(cluster: string, outcome: AttemptOutcome): void {
    if (this.finished || this.upstreamAnswered) return;
    const backoffMs = this.retries!.retryAfter(outcome, this.host.random);
    if (backoffMs !== undefined) {
      this.armRouteTimer();
      this.abandonAttempt = () => this.host.clock.cancel(retryTimer as never);
      const retryTimer = this.host.clock.schedule(backoffMs, () => this.attempt(cluster));
      return;
    }
    if (this.routeTimer !== undefined) this.host.clock.cancel(this.routeTimer as never);
    const exhausted = this.retries!.limitExceeded ? RESPONSE_FLAG.UpstreamRetryLimitExceeded : 0;
    switch (outcome.kind) {
      case 'response':
        this.responseFlags |= exhausted;
        this.onUpstreamResponse(outcome.response);
        return;
      case 'reset': {
        const flag = outcome.reason === 'remote reset' ? RESPONSE_FLAG.UpstreamRemoteReset : RESPONSE_FLAG.UpstreamConnectionTermination;
        this.respondFromHost(503, `upstream_reset_before_response_started{${outcome.reason.replace(' ', '_')}}`, resetText(outcome.reason, this.retries!.retried > 0), flag | exhausted);
        return;
      }
      case 'connect-failure':
        this.respondFromHost(503, connectFailure(outcome.error), resetText('remote connection failure', this.retries!.retried > 0), RESPONSE_FLAG.UpstreamConnectionFailure | exhausted);
        return;
      case 'per-try-timeout':
        this.respondFromHost(504, 'upstream_per_try_timeout', 'upstream request timeout', RESPONSE_FLAG.UpstreamRequestTimeout | exhausted);
    }
  }

  /**
   * How long the router waits for the upstream: the route's timeout (15 s unless it sets one),
   * unless the request reaching the router carries x-envoy-upstream-rq-timeout-ms (a filter may
   * set it; Envoy strips a client's at the edge), which the router takes in its place and
   * removes before forwarding.
   */
  private upstreamTimeoutMs(): number {
    const routeTimeout = this.routeDecision?.route?.timeoutMs ?? this.host.routeTimeoutMs;
    const value = takeHeader(this.requestHeaders, 'x-envoy-upstream-rq-timeout-ms');
    if (value === undefined) return routeTimeout;
    return /^[1-9][0-9]{0,9}$/.test(value) ? Number(value) : routeTimeout;
  }

  /** A reply Envoy itself makes (no route, no upstream, timeouts), with Envoy's body text. */
  protected respondFromHost(status: number, details: string, text = '', flags = 0): void {
    if (this.finished || this.upstreamAnswered) return;
    this.upstreamAnswered = true;
    this.responseFlags = flags;
    this.responding = true;
    this.responseCodeDetails = details;
    const body = textBytes.encode(text);
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
    this.upstreamAnswered = true;
    this.responseCodeDetails = 'via_upstream';
    const headers = headerList(response.headers).filter(([k]) => k !== ':status');
    // Envoy's router tells the client how long the upstream took, before the filters see the headers.
    this.responseHeaders = [[':status', String(response.status)], ...headers, ['x-envoy-upstream-service-time', String(Math.round(this.host.now() - this.upstreamSentAt))]];
    const chunks = Array.isArray(response.body) ? response.body.map(asBytes) : [asBytes(response.body)];
    this.responseChunks = chunks.filter((c) => c.length > 0);
    this.responseTrailers = headerList(response.trailers);
    // Upstreams speak HTTP/1 to Envoy: the end of the message comes as an empty body callback.
    if (this.responseChunks.length > 0 && this.responseTrailers.length === 0) this.responseChunks.push(new Uint8Array(0));
    this.responseStage = { phase: 'headers', index: 0, chunk: 0 };
    this.runResponse();
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
        if (from === undefined) this.responseBody = concatBytes(this.responseBody, this.responseChunks[stage.chunk]);
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
    this.abandonAttempt();
    if (this.routeTimer !== undefined) this.host.clock.cancel(this.routeTimer as never);
    this.complete();
  }

  /** The client closes its connection before the response is complete (Envoy logs flag DC, code 0). */
  disconnect(): void {
    if (this.finished) return;
    this.responseFlags |= RESPONSE_FLAG.DownstreamConnectionTermination;
    this.reset('downstream_remote_disconnect');
  }

  // ---- completion --------------------------------------------------------------------------

  private complete(): void {
    if (this.finished) return;
    this.finished = true;
    this.host.clock.cancel(this.idleTimer as never);
    if (!this.resetReason) this.encodeForClient(this.host.now());
    this.logging = true;
    for (const f of this.filters) if (!f.vm.failed) f.vm.call('proxy_on_log', f.contextId, f.contextId);
    this.logging = false;
    for (const f of this.filters) if (!f.vm.failed) f.vm.call('proxy_on_done', f.contextId, f.contextId);
    for (const f of this.filters) {
      if (!f.vm.failed) f.vm.call('proxy_on_delete', f.contextId, f.contextId);
      f.vm.contexts.delete(f.contextId);
    }
    this.outcome = this.result(filterTrace(this.filters));
    this.resolveDone(this.outcome);
  }

  /** Describes a stream that stopped with nothing left to continue it (as Envoy would hang until a timeout). */
  stalledResult(): StreamResult | undefined {
    if (this.finished) return undefined;
    const f = this.filters.find((x) => x.waiting);
    const where = f?.waiting;
    return {
      ...this.result(filterTrace(this.filters)),
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

  attribute(path: string[], reader: FilterContext): Uint8Array | undefined {
    return streamAttribute(this, path, reader.open.has(HeaderMapType.RequestHeaders), this.host.now());
  }
}
