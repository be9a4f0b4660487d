// The simulated Envoy: plugins in a filter chain, a router with clusters, the host services
// every VM shares (shared data, queues, metrics, timers, callouts), and the test API.
import { LOG_LEVEL_NAMES, WasmResult, type LogLevelName } from './abi.js';
import type { NodeInfo } from './attributes.js';
import { asBytes, textToBytes } from './bytes.js';
import { Callouts, type CalloutRecord } from './callouts.js';
import { VirtualClock } from './clock.js';
import { ForeignFunctions } from './foreign-functions.js';
import type { HostServices } from './host-functions/index.js';
import { LogSink } from './logs.js';
import { MetricStore, type StatsTag } from './metrics.js';
import { headerList } from './pairs.js';
import { normalizeRequestPath, type PathNormalization } from './paths.js';
import { Plugin, type PluginSpec, type PluginHost } from './plugin.js';
import { seededRandom } from './random.js';
import { Router, type Route } from './router.js';
import { SharedData, SharedQueues } from './shared-state.js';
import { HttpStream } from './stream/http-stream.js';
import type { TlsInfo, StreamHost, StreamResult, UpstreamRequest, UpstreamResponse } from './stream/types.js';
import { Ticks } from './ticks.js';
import { normalizeCluster, type ClusterInput, type ClusterSpec } from './upstreams.js';
import { connectServers, platform, type RealServers } from './platform.js';
import type { WasmVm } from './vm.js';
import { Watchdog } from './watchdog.js';


/** Request headers Envoy removes from an external client's request (checked against Envoy 1.40). */
const EDGE_STRIPPED = new Set([
  'x-envoy-upstream-rq-timeout-ms', 'x-envoy-upstream-rq-per-try-timeout-ms', 'x-envoy-max-retries', 'x-envoy-retry-on',
  'x-envoy-retry-grpc-on', 'x-envoy-retriable-status-codes', 'x-envoy-retriable-header-names', 'x-envoy-expected-rq-timeout-ms',
  'x-envoy-hedge-on-per-try-timeout', 'x-envoy-upstream-alt-stat-name', 'x-envoy-upstream-rq-timeout-alt-response',
  'x-envoy-force-trace', 'x-envoy-ip-tags', 'x-envoy-original-url', 'x-envoy-internal',
]);
export type { CalloutRecord };

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

function attributeMap(a: Record<string, Uint8Array | string> | undefined): Map<string, Uint8Array> {
  return new Map(Object.entries(a ?? {}).map(([k, v]) => [k, asBytes(v)]));
}

/**
 * The test API: load plugins into the chain, send requests, move the virtual clock, read logs,
 * metrics and callouts. The services VMs share are composed from their own modules.
 */
export class Host implements StreamHost, PluginHost {
  readonly clock = new VirtualClock();
  readonly shared = new SharedData();
  readonly queues = new SharedQueues();
  readonly metrics = new MetricStore();
  readonly logs = new LogSink();
  readonly plugins: Plugin[] = [];
  readonly node: NodeInfo;
  readonly rootAttributes: Map<string, Uint8Array>;
  readonly services: HostServices;
  readonly workers: number;
  readonly foreign = new ForeignFunctions();
  private readonly clusters = new Map<string, ClusterSpec>();
  private readonly router: Router;
  /**
   * Work in flight: "network" work (real servers) is always awaited, with its own time limit;
   * "handler" work (test functions) may never finish, which is how a test simulates a hung
   * upstream, so waiting for it stops after a short quiet period.
   */
  private readonly pending = new Map<Promise<unknown>, 'network' | 'handler'>();
  private readonly calloutService: Callouts;
  /** Clients for clusters given as a server's URL. */
  private readonly servers: RealServers;
  private readonly ticks: Ticks;
  readonly random: () => number;
  private readonly statsTags: StatsTag[];
  private readonly generateRequestId: boolean;
  private nextWorker = 0;
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
    this.servers = connectServers();
    this.calloutService = new Callouts(this.clock, this.clusters, this.servers, (work, kind) => this.track(work, kind));
    this.ticks = new Ticks(this.clock);
    this.services = this.composeServices();
  }

  /** Every callout the plugins made, in order, with how it ended. */
  get callouts(): CalloutRecord[] { return this.calloutService.records; }

  /** What every VM's host functions call. */
  private composeServices(): HostServices {
    const callouts = this.calloutService;
    return {
      clock: this.clock, shared: this.shared, queues: this.queues, metrics: this.metrics,
      logLevel: () => LOG_LEVEL_NAMES.indexOf(this.logs.level),
      httpCall: (vm, contextId, request) => callouts.httpCall(vm, contextId, request),
      grpcCall: (vm, contextId, request) => callouts.grpcCall(vm, contextId, request),
      grpcStream: (vm, contextId, request) => callouts.grpcStream(vm, contextId, request),
      grpcSend: (vm, token, message, endStream) => callouts.grpcSend(vm, token, message, endStream),
      grpcCancel: (vm, token) => callouts.grpcCancel(vm, token),
      grpcClose: (vm, token) => callouts.grpcClose(vm, token),
      setTickPeriod: (vm, rootContextId, periodMs) => this.ticks.setTickPeriod(vm, rootContextId, periodMs),
      // No root context is ever torn down during a test, so none is waiting to finish.
      done: () => WasmResult.NotFound,
      foreignFunction: (vm, name, args) => this.foreign.call(vm, name, args),
    };
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
    const chunks = spec.body === undefined ? [] : (Array.isArray(spec.body) ? spec.body : [spec.body]).map(asBytes);
    const protocol = spec.protocol ?? 'HTTP/1.1';
    const http1 = protocol.startsWith('HTTP/1');
    // Envoy's HTTP/1 codec consumes transfer-encoding (filters never see it); a body given
    // without framing is sent as most clients send it, with a content-length.
    const framed = headers.some(([k]) => k === 'content-length' || k === 'transfer-encoding');
    if (http1) for (let i = headers.length - 1; i >= 0; i--) if (headers[i][0] === 'transfer-encoding') headers.splice(i, 1);
    const total = chunks.reduce((n, c) => n + c.length, 0);
    if (total > 0 && !framed) headers.push(['content-length', String(total)]);
    // Envoy's connection manager drops the router's control headers an external client sends
    // (before any filter): only the proxy's own filters may set timeouts and retries.
    for (let i = headers.length - 1; i >= 0; i--) if (EDGE_STRIPPED.has(headers[i][0])) headers.splice(i, 1);
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
      await platform().nextTurn();
      if (this.pending.size === 0) return;
      const network = [...this.pending].filter(([, kind]) => kind === 'network').map(([p]) => p);
      const handlers = [...this.pending].filter(([, kind]) => kind === 'handler').map(([p]) => p);
      const anyHandler = handlers.length ? Promise.race(handlers).then(() => true, () => true) : new Promise<boolean>(() => {});
      if (network.length) {
        // Real servers live in real time: while one is awaited, virtual time passes with it,
        // so a timeout shorter than its answer fires, as it would in Envoy.
        const started = Date.now();
        let step: ReturnType<typeof setTimeout> | undefined;
        const tick = new Promise<void>((r) => { step = setTimeout(r, REAL_TIME_STEP_MS); });
        await Promise.race([Promise.allSettled(network), anyHandler, tick]);
        clearTimeout(step);
        this.watchdog.run(() => 'timers', () => this.clock.advance(Date.now() - started));
        continue;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
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

  retireVm(vm: WasmVm): void { this.ticks.retire(vm); }

  /** The metrics in Prometheus text format, with the host's stats_tags applied. */
  prometheus(statsTags: StatsTag[] = this.statsTags): string { return this.metrics.prometheus(statsTags); }

  /** Closes gRPC clients and stops timers. */
  close(): void {
    this.calloutService.close();
    this.servers.close();
    this.ticks.close();
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
    if (cluster?.url) return { response: this.servers.http(cluster.url, request), kind: 'network' };
    return { response: { status: 503, body: `no healthy upstream in cluster ${request.cluster}` }, kind: 'handler' };
  }

  /** Envoy's default route timeout: 15 s without a response gives 504. */
  readonly routeTimeoutMs = 15_000;
  /** Envoy's default stream idle timeout: a stream nothing moves for 5 minutes gets 408. */
  readonly streamIdleTimeoutMs = 300_000;
}
