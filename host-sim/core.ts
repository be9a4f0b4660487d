// host-sim's API, the same under Node (host-sim/index.ts) and in a page (host-sim/browser.ts);
// nothing here touches a Node-only module (platform.ts holds what differs).
export { Host, type HostOptions, type RequestSpec, type WaitOptions, type CalloutRecord } from './host.js';
export { Plugin, PluginLoadError, type PluginSpec } from './plugin.js';
export { ModuleTimeoutError } from './watchdog.js';
export type { FilterTrace, StreamResult, UpstreamRequest, UpstreamResponse } from './stream/types.js';
export type { Route, HeaderMatch, RouteDecision } from './router.js';
export type { ClusterInput, ClusterSpec, GrpcHandler, GrpcReply, GrpcRequest, HttpHandler } from './upstreams.js';
export type { NodeInfo } from './attributes.js';
export type { PathNormalization, EscapedSlashesAction } from './paths.js';
export type { TlsInfo } from './stream/types.js';
export { encode } from './attributes.js';
export { VirtualClock } from './clock.js';
export { LogSink, type LogEntry } from './logs.js';
export { MetricStore, type StatsTag } from './metrics.js';
export { encodePairs, decodePairs } from './pairs.js';
export { WasmResult, LogLevel, type LogLevelName } from './abi.js';
