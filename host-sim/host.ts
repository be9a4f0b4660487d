// The simulated Envoy: plugins in a filter chain, a router with clusters, the host services
// every VM shares (shared data, queues, metrics, timers, callouts), and the test API.
import { GrpcStatus, LOG_LEVEL_NAMES, WasmResult, type LogLevelName } from './abi.js';
import type { NodeInfo } from './attributes.js';
import { VirtualClock, type Timer } from './clock.js';
import type { GrpcCallRequest, HostServices, HttpCallRequest } from './host-functions/index.js';
import { bytesToText, textToBytes } from './bytes.js';
import { LogSink } from './logs.js';
import { MetricStore, type StatsTag } from './metrics.js';
import { Plugin, type PluginSpec, type PluginHost } from './plugin.js';
import { Watchdog } from './watchdog.js';
import { normalizeRequestPath, type PathNormalization } from './paths.js';
import { seededRandom } from './random.js';
import { Router, type Route } from './router.js';
import { SharedData, SharedQueues } from './shared-state.js';
import { HttpStream } from './stream/http-stream.js';
import type { TlsInfo, StreamHost, StreamResult, UpstreamRequest, UpstreamResponse } from './stream/types.js';
import { GrpcClients, httpToServer, normalizeCluster, type ClusterInput, type ClusterSpec, type GrpcReply, type GrpcStreamCall } from './upstreams.js';
import type { WasmVm } from './vm.js';
import { readProtoFields } from './wire.js';

export interface HostOptions {
  /** Worker threads: each plugin runs in this many VMs (default 1). */
  workers?: number;
  /** Clusters by name (default: one cluster "default" answering 200). */
  clusters?: Record<string, ClusterInput>;
  /** The route table (default: every path to the first cluster). */
  routes?: Route[];
  /** The node (xds.node): id, cluster and metadata such as Istio's NAME, NAMESPACE, LABELS. */
  node?: NodeInfo;
  /** The level proxy_get_log_level reports; lower messages are dropped (default trace). */
  logLevel?: LogLevelName;
  /** stats_config.stats_tags used by prometheus(). */
  statsTags?: StatsTag[];
  /** Seed for the router's weighted choice and generated request ids (default 1). */
  seed?: number;
  /** Add x-request-id to requests without one, as Envoy's connection manager does (default true). */
  generateRequestId?: boolean;
  /** Extra attributes readable from every context, by dotted path (e.g. "xds.listener_direction"). */
  attributes?: Record<string, Uint8Array | string>;
  /** The connection manager's normalize_path, merge_slashes and path_with_escaped_slashes_action. */
  pathNormalization?: PathNormalization;
  /** Request headers removed before the filters run, as a header_mutation filter ahead of them does. */
  removeRequestHeaders?: string[];
  /**
   * Longest a call into a module may run before it is stopped and the VM failed, with a
   * ModuleTimeoutError for the test (default 30 s; 0: no limit).
   */
  callTimeLimitMs?: number;
}

export interface RequestSpec {
  method?: string;
  path?: string;
  authority?: string;
  scheme?: string;
  /** Values as text, or as bytes that reach the module byte for byte (as any byte can in Envoy). */
  headers?: Record<string, string | Uint8Array> | [string, string | Uint8Array][];
  /** The body, or its chunks as they arrive. */
  body?: string | Uint8Array | (string | Uint8Array)[];
  trailers?: Record<string, string | Uint8Array> | [string, string | Uint8Array][];
  /** Downstream address "ip:port" (default 10.0.0.1:54321). */
  source?: string;
  destination?: string;
  protocol?: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2' | 'HTTP/3';
  /** Which worker serves the stream (default: round robin). */
  worker?: number;
  /** Extra attributes for this stream, by dotted path. */
  attributes?: Record<string, Uint8Array | string>;
  /** The downstream connection's TLS: with a peer certificate it is mTLS (connection.mtls). */
  tls?: TlsInfo;
  /**
   * Dynamic metadata other filters of the chain recorded, by namespace: e.g.
   * `{ 'envoy.filters.http.jwt_authn': { jwt_payload: { iss, sub, exp } } }` for a token jwt_authn verified.
   */
  dynamicMetadata?: Record<string, Record<string, unknown>>;
  /**
   * Filter state objects with fields, by key: e.g. Istio's `downstream_peer`
   * (`{ namespace, workload, app, version, labels }`), read as filter_state.<key>.<field>.
   */
  filterState?: Record<string, Record<string, unknown>>;
}

export interface WaitOptions {
  /** When nothing else can happen, move the virtual clock to the next timer (default false). */
  advanceClock?: boolean;
  /** Give up after moving the clock this far (default one hour of virtual time). */
  maxAdvanceMs?: number;
}

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

const encoder = new TextEncoder();

/** Filter state objects stock Envoy can create from a string (StreamInfo::FilterState::ObjectFactory). */
const WELL_KNOWN_FILTER_STATE = [
  'envoy.network.upstream_server_name', 'envoy.network.application_protocols', 'envoy.network.transport_socket.original_dst_address',
  'envoy.network.upstream_subject_alt_names', 'envoy.tcp_proxy.cluster', 'envoy.string', 'envoy.filters.network.http_connection_manager.local_reply_owner',
];

/** Envoy's default max_request_headers_kb (60). */
const MAX_REQUEST_HEADERS_BYTES = 60 * 1024;

/** The bytes of a header list; counted exactly only when it could be near Envoy's limit. */
function requestHeaderBytes(headers: [string, string][]): number {
  const chars = headers.reduce((n, [k, v]) => n + k.length + v.length, 0);
  // A UTF-16 unit is at most 3 UTF-8 bytes: most requests are decided without encoding.
  if (chars * 3 <= MAX_REQUEST_HEADERS_BYTES) return chars;
  return headers.reduce((n, [k, v]) => n + textToBytes(k).length + textToBytes(v).length, 0);
}

/** While a real server is awaited, virtual time follows real time in steps of this many ms. */
const REAL_TIME_STEP_MS = 20;

/** How long (real time) a test handler may stay silent before the host treats it as hung. */
const HANDLER_QUIET_MS = 100;

function headerList(h: Record<string, string | Uint8Array> | [string, string | Uint8Array][] | undefined): [string, string][] {
  if (!h) return [];
  return (Array.isArray(h) ? h : Object.entries(h)).map(([k, v]) => [k.toLowerCase(), v instanceof Uint8Array ? bytesToText(v) : String(v)]);
}

function toBytes(b: string | Uint8Array): Uint8Array { return typeof b === 'string' ? encoder.encode(b) : b; }

function attributeMap(a: Record<string, Uint8Array | string> | undefined): Map<string, Uint8Array> {
  return new Map(Object.entries(a ?? {}).map(([k, v]) => [k, toBytes(v)]));
}

/** A small deterministic generator, so weighted routing and ids repeat across runs. */
export class Host implements HostServices, StreamHost, PluginHost {
  readonly clock = new VirtualClock();
  readonly shared = new SharedData();
  readonly queues = new SharedQueues();
  readonly metrics = new MetricStore();
  readonly logs = new LogSink();
  readonly plugins: Plugin[] = [];
  readonly callouts: CalloutRecord[] = [];
  readonly node: NodeInfo;
  readonly rootAttributes: Map<string, Uint8Array>;
  readonly services: HostServices = this;
  readonly workers: number;
  private readonly clusters = new Map<string, ClusterSpec>();
  private readonly router: Router;
  /**
   * Work in flight: "network" work (real servers) is always awaited, with its own time limit;
   * "handler" work (test functions) may never finish, which is how a test simulates a hung
   * upstream, so waiting for it stops after a short quiet period.
   */
  private readonly pending = new Map<Promise<unknown>, 'network' | 'handler'>();
  private readonly calloutsByToken = new Map<string, PendingCallout>();
  private readonly tokens = new WeakMap<WasmVm, { http: number; grpc: number; stream: number }>();
  private readonly ticks = new Map<string, Timer>();
  private readonly tickPeriods = new Map<string, number>();
  private readonly grpcClients = new GrpcClients();
  private readonly random: () => number;
  private readonly statsTags: StatsTag[];
  private readonly generateRequestId: boolean;
  private nextWorker = 0;
  private readonly declaredProperties = new WeakMap<WasmVm, Set<string>>();
  /** Filter state keys Envoy has object factories for (set_envoy_filter_state accepts only these). */
  readonly filterStateFactories = new Set<string>(WELL_KNOWN_FILTER_STATE);
  private nextConnectionId = 1;

  private readonly pathNormalization: PathNormalization;
  readonly watchdog: Watchdog;
  private readonly removeRequestHeaders: Set<string>;

  constructor(options: HostOptions = {}) {
    this.workers = Math.max(1, options.workers ?? 1);
    this.node = options.node ?? { id: 'sidecar~10.0.0.2~app.default~default.svc.cluster.local', cluster: 'app' };
    this.logs.level = options.logLevel ?? 'trace';
    this.statsTags = options.statsTags ?? [];
    this.random = seededRandom(options.seed ?? 1);
    this.generateRequestId = options.generateRequestId ?? true;
    this.rootAttributes = attributeMap(options.attributes);
    this.pathNormalization = options.pathNormalization ?? {};
    this.watchdog = new Watchdog(options.callTimeLimitMs ?? 30_000);
    this.removeRequestHeaders = new Set((options.removeRequestHeaders ?? []).map((h) => h.toLowerCase()));
    const clusters = options.clusters ?? { default: () => ({ status: 200, body: 'ok' }) };
    for (const [name, spec] of Object.entries(clusters)) this.clusters.set(name, normalizeCluster(spec));
    const first = Object.keys(clusters)[0];
    this.router = new Router(options.routes ?? [{ name: 'default', match: { prefix: '/' }, cluster: first }],
      () => new Set(this.clusters.keys()), this.random);
  }

  /**
   * Loads a plugin and appends it to the filter chain: base VM, canary (vm_start and configure)
   * and one VM per worker. Throws PluginLoadError when Envoy would refuse it.
   */
  addPlugin(spec: PluginSpec): Plugin {
    const plugin = this.watchdog.run(() => `loading ${spec.name ?? spec.rootId ?? 'a plugin'}`, () => Plugin.load(this, spec, this.workers));
    this.plugins.push(plugin);
    return plugin;
  }

  /** Sends a request through the chain and waits until it completes or can make no progress. */
  async request(spec: RequestSpec = {}, wait: WaitOptions = {}): Promise<StreamResult> {
    return this.wait(this.startRequest(spec), wait);
  }

  /** Starts a request without waiting; pair with wait() (e.g. after advancing the clock). */
  startRequest(spec: RequestSpec = {}): HttpStream {
    const headers: [string, string][] = [
      [':authority', spec.authority ?? 'example.com'],
      [':path', spec.path ?? '/'],
      [':method', spec.method ?? 'GET'],
      [':scheme', spec.scheme ?? 'http'],
      ...headerList(spec.headers),
    ];
    for (let i = headers.length - 1; i >= 0; i--) if (this.removeRequestHeaders.has(headers[i][0])) headers.splice(i, 1);
    // An absolute-form target (GET http://host/path) becomes the path, and its host the authority.
    const absolute = headers[1][1].match(/^https?:\/\/([^/?#]*)(.*)$/i);
    if (absolute) {
      headers[0][1] = absolute[1];
      headers[1][1] = absolute[2].startsWith('/') ? absolute[2] : `/${absolute[2]}`;
    }
    const verdict = normalizeRequestPath(headers[1][1], this.pathNormalization);
    if ('path' in verdict) headers[1][1] = verdict.path;
    const chunks = spec.body === undefined ? [] : (Array.isArray(spec.body) ? spec.body : [spec.body]).map(toBytes);
    const protocol = spec.protocol ?? 'HTTP/1.1';
    const http1 = protocol.startsWith('HTTP/1');
    // Envoy's HTTP/1 codec consumes transfer-encoding (filters never see it); a body given
    // without framing is sent as most clients send it, with a content-length.
    const framed = headers.some(([k]) => k === 'content-length' || k === 'transfer-encoding');
    if (http1) for (let i = headers.length - 1; i >= 0; i--) if (headers[i][0] === 'transfer-encoding') headers.splice(i, 1);
    const total = chunks.reduce((n, c) => n + c.length, 0);
    if (total > 0 && !framed) headers.push(['content-length', String(total)]);
    // Envoy's connection manager sets the scheme the client used, unless the client sent one.
    if (!headers.some(([k]) => k === 'x-forwarded-proto')) headers.push(['x-forwarded-proto', spec.scheme ?? 'http']);
    if (this.generateRequestId && !headers.some(([k]) => k === 'x-request-id')) headers.push(['x-request-id', this.uuid()]);
    const worker = spec.worker ?? this.nextWorker++ % this.workers;
    if (worker < 0 || worker >= this.workers) throw new RangeError(`worker ${worker} does not exist (the host has ${this.workers})`);
    // HTTP/1 trailers reach no filter: Envoy's codec drops them unless enable_trailers is set.
    const trailers = http1 ? [] : headerList(spec.trailers);
    const stream = new HttpStream(this, this.plugins, worker, headers, chunks, trailers, {
      source: spec.source ?? '10.0.0.1:54321',
      destination: spec.destination ?? '10.0.0.2:8080',
      protocol,
      attributes: attributeMap(spec.attributes),
      tls: spec.tls,
      dynamicMetadata: spec.dynamicMetadata ?? {},
      filterStateObjects: spec.filterState ?? {},
      connectionId: this.nextConnectionId++,
      http1,
    });
    // Envoy's codec answers requests whose headers exceed 60 KiB itself; filters only log them.
    if (requestHeaderBytes(headers) > MAX_REQUEST_HEADERS_BYTES) stream.rejectByCodec(431, 'http1.headers_too_large', 'Request Header Fields Too Large');
    else if ('reject' in verdict) stream.rejectByCodec(400, verdict.reject, '');
    else if ('redirect' in verdict) stream.rejectByCodec(307, 'path_normalization_redirect', '', [['location', verdict.redirect]]);
    else this.watchdog.run(() => 'a request', () => stream.start());
    return stream;
  }

  /** Waits for `stream` to finish; returns its stalled state instead of hanging when nothing can move it. */
  async wait(stream: HttpStream, options: WaitOptions = {}): Promise<StreamResult> {
    let advanced = 0;
    const limit = options.maxAdvanceMs ?? 3_600_000;
    for (;;) {
      // Most streams finish without any asynchronous work: no need to wait a turn for them.
      if (stream.outcome) return stream.outcome;
      await this.idle();
      if (stream.outcome) return stream.outcome;
      const next = this.clock.nextTimerAt();
      if (options.advanceClock && next !== undefined && advanced < limit) {
        const step = Math.max(0, next - this.clock.now());
        advanced += step;
        this.watchdog.run(() => 'timers', () => this.clock.advance(step));
        continue;
      }
      return stream.outcome ?? stream.stalledResult()!;
    }
  }

  /** Moves virtual time forward, firing ticks and callout timeouts, then lets their effects settle. */
  async advance(ms: number): Promise<void> {
    this.watchdog.run(() => 'timers', () => this.clock.advance(ms));
    await this.idle();
  }

  /** Resolves when nothing in flight can still move a stream without the clock advancing. */
  async idle(): Promise<void> {
    for (;;) {
      await new Promise((r) => setImmediate(r));
      if (this.pending.size === 0) return;
      const network = [...this.pending].filter(([, kind]) => kind === 'network').map(([p]) => p);
      const handlers = [...this.pending].filter(([, kind]) => kind === 'handler').map(([p]) => p);
      const anyHandler = handlers.length ? Promise.race(handlers).then(() => true, () => true) : new Promise<boolean>(() => {});
      if (network.length) {
        // Real servers live in real time: while one is awaited, virtual time passes with it,
        // so a timeout shorter than its answer fires, as it would in Envoy.
        const started = Date.now();
        let step: NodeJS.Timeout | undefined;
        const tick = new Promise<void>((r) => { step = setTimeout(r, REAL_TIME_STEP_MS); });
        await Promise.race([Promise.allSettled(network), anyHandler, tick]);
        clearTimeout(step);
        this.watchdog.run(() => 'timers', () => this.clock.advance(Date.now() - started));
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      const quiet = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), HANDLER_QUIET_MS); });
      const progressed = await Promise.race([anyHandler, quiet]);
      clearTimeout(timer);
      if (!progressed) return;
    }
  }

  /** Tracks asynchronous work; the returned function forgets it (when a timeout made it moot). */
  track(work: Promise<unknown>, kind: 'network' | 'handler' = 'handler'): () => void {
    const tracked = work.finally(() => this.pending.delete(tracked));
    this.pending.set(tracked, kind);
    return () => { this.pending.delete(tracked); };
  }

  post(work: () => void): void {
    this.track(Promise.resolve().then(() => this.watchdog.run(() => 'posted work', work)), 'network');
  }

  retireVm(vm: WasmVm): void {
    for (const [key, timer] of this.ticks) {
      if (key.startsWith(`${vm.id}:`)) { this.clock.cancel(timer); this.ticks.delete(key); this.tickPeriods.delete(key); }
    }
  }

  /** The metrics in Prometheus text format, with the host's stats_tags applied. */
  prometheus(statsTags: StatsTag[] = this.statsTags): string { return this.metrics.prometheus(statsTags); }

  /** Closes gRPC clients and stops timers. */
  close(): void {
    this.grpcClients.close();
    for (const t of this.ticks.values()) this.clock.cancel(t);
    for (const c of this.calloutsByToken.values()) this.clock.cancel(c.timer);
  }

  now(): number { return this.clock.now(); }

  private uuid(): string {
    const bytes = Array.from({ length: 16 }, () => Math.floor(this.random() * 256));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  // ---- routing and upstreams ---------------------------------------------------------------

  route(headers: [string, string][]) { return this.router.decide(headers); }

  upstream(request: UpstreamRequest): { response: UpstreamResponse | Promise<UpstreamResponse>; kind: 'network' | 'handler' } {
    const cluster = this.clusters.get(request.cluster);
    // A handler that answers at once is used at once: most test streams then finish
    // synchronously, which keeps host-sim fast.
    if (cluster?.http) return { response: cluster.http(request), kind: 'handler' };
    if (cluster?.url) return { response: httpToServer(cluster.url, request), kind: 'network' };
    return { response: { status: 503, body: `no healthy upstream in cluster ${request.cluster}` }, kind: 'handler' };
  }

  /** Envoy's default route timeout: 15 s without a response gives 504. */
  readonly routeTimeoutMs = 15_000;
  /** Envoy's default stream idle timeout: a stream nothing moves for 5 minutes gets 408. */
  readonly streamIdleTimeoutMs = 300_000;

  // ---- HostServices ------------------------------------------------------------------------

  logLevel(): number { return LOG_LEVEL_NAMES.indexOf(this.logs.level); }

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
    this.callouts.push(record);
    const pending: PendingCallout = { record, vm, contextId, settled: false };
    this.calloutsByToken.set(this.key(vm, token), pending);
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
    const work = (async () => (cluster.http ? cluster.http(upstreamRequest) : httpToServer(cluster.url!, upstreamRequest)))()
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
    this.calloutsByToken.delete(this.key(pending.vm, pending.record.token));
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
      : Array.isArray(response.body) ? concatAll(response.body.map(toBytes)) : toBytes(response.body);
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
    this.callouts.push(record);
    const pending: PendingCallout = { record, vm, contextId, settled: false };
    this.calloutsByToken.set(this.key(vm, token), pending);
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
      const call = this.grpcClients.unary(cluster.url!, grpcRequest, request.timeoutMs);
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
    this.callouts.push(record);
    const pending: PendingCallout = { record, vm, contextId, settled: false };
    this.calloutsByToken.set(this.key(vm, token), pending);
    if (cluster.url) {
      const stream = this.grpcClients.stream(cluster.url, request.service, request.method, request.metadata, {
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
    const pending = this.calloutsByToken.get(this.key(vm, token));
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
    const pending = this.calloutsByToken.get(this.key(vm, token));
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
    const pending = this.calloutsByToken.get(this.key(vm, token));
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

  setTickPeriod(vm: WasmVm, rootContextId: number, periodMs: number): number {
    const key = `${vm.id}:${rootContextId}`;
    this.clock.cancel(this.ticks.get(key));
    this.ticks.delete(key);
    this.tickPeriods.delete(key);
    if (periodMs === 0) return WasmResult.Ok;
    const fire = () => {
      this.ticks.delete(key);
      if (vm.failed || vm.retired) return;
      vm.call('proxy_on_tick', rootContextId, rootContextId);
      // Unless on_tick changed or stopped the timer, the next tick is one period later.
      if (!this.ticks.has(key) && this.tickPeriods.get(key) === periodMs) this.ticks.set(key, this.clock.schedule(periodMs, fire));
    };
    this.tickPeriods.set(key, periodMs);
    this.ticks.set(key, this.clock.schedule(periodMs, fire));
    return WasmResult.Ok;
  }

  done(_vm: WasmVm, _contextId: number): number {
    // No root context is ever torn down during a test, so none is waiting to finish.
    return WasmResult.NotFound;
  }

  foreignFunction(vm: WasmVm, name: string, args: Uint8Array): { result: number; data?: Uint8Array } {
    const context = vm.context();
    const stream = context?.kind === 'stream' ? context.stream : undefined;
    switch (name) {
      case 'clear_route_cache':
        stream?.clearRouteCache();
        return { result: WasmResult.Ok };
      case 'declare_property': {
        const fields = readProtoFields(args);
        const property = fields.get(1)?.bytes;
        if (!property) return { result: WasmResult.BadArgument };
        const declared = this.declaredProperties.get(vm) ?? new Set<string>();
        this.declaredProperties.set(vm, declared);
        const key = new TextDecoder().decode(property);
        // A property keeps its first declaration: Envoy refuses to redeclare it.
        if (declared.has(key)) return { result: WasmResult.BadArgument };
        declared.add(key);
        return { result: WasmResult.Ok };
      }
      case 'set_envoy_filter_state': {
        if (!stream) return { result: WasmResult.NotFound };
        const fields = readProtoFields(args);
        const path = fields.get(1)?.bytes;
        const value = fields.get(2)?.bytes ?? new Uint8Array(0);
        if (!path) return { result: WasmResult.BadArgument };
        const key = new TextDecoder().decode(path);
        // Envoy creates only objects it has a factory for.
        if (!this.filterStateFactories.has(key)) return { result: WasmResult.NotFound };
        stream.setFilterState(key, value);
        return { result: WasmResult.Ok };
      }
      default:
        return { result: WasmResult.NotFound };
    }
  }
}

function concatAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) { out.set(p, offset); offset += p.length; }
  return out;
}

