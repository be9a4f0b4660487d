import type { VirtualClock } from '../clock.js';
import type { MetricStore } from '../metrics.js';
import type { SharedData, SharedQueues } from '../shared-state.js';
import type { WasmVm } from '../vm.js';

export interface HttpCallRequest {
  cluster: string;
  headers: [string, string][];
  body: Uint8Array;
  trailers: [string, string][];
  timeoutMs: number;
}

export interface GrpcCallRequest {
  cluster: string;
  service: string;
  method: string;
  metadata: [string, string][];
  /** The serialized request message (unary calls). */
  message?: Uint8Array;
  timeoutMs: number;
}

/** The host services shared by every VM; Host composes them (host.ts). */
export interface HostServices {
  readonly clock: VirtualClock;
  readonly shared: SharedData;
  readonly queues: SharedQueues;
  readonly metrics: MetricStore;
  /** Current log level number (0 trace .. 5 critical). */
  logLevel(): number;
  /** Starts an http callout; returns a WasmResult and the token on success. */
  httpCall(vm: WasmVm, contextId: number, request: HttpCallRequest): { result: number; token?: number };
  grpcCall(vm: WasmVm, contextId: number, request: GrpcCallRequest): { result: number; token?: number };
  grpcStream(vm: WasmVm, contextId: number, request: GrpcCallRequest): { result: number; token?: number };
  grpcSend(vm: WasmVm, token: number, message: Uint8Array, endStream: boolean): number;
  grpcCancel(vm: WasmVm, token: number): number;
  grpcClose(vm: WasmVm, token: number): number;
  setTickPeriod(vm: WasmVm, rootContextId: number, periodMs: number): number;
  /** Root contexts that deferred onDone and now call proxy_done. */
  done(vm: WasmVm, contextId: number): number;
  foreignFunction(vm: WasmVm, name: string, args: Uint8Array): { result: number; data?: Uint8Array };
}
