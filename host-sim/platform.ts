// What host-sim needs from the runtime it runs in beyond what Node and browsers share. The core
// (every module outside node/) reaches files, sockets and interrupts only through here:
// host-sim/index.ts installs Node's adapter (node/platform.ts), host-sim/browser.ts runs on this
// default, which is what a page can do.
import type { GrpcReply, GrpcRequest, GrpcStreamCall, StreamEvents } from './upstreams.js';
import type { UpstreamRequest, UpstreamResponse } from './stream/types.js';

/** Clients for clusters given as a real server's URL. */
export interface RealServers {
  /** A routed request or http_call over HTTP/1.1. */
  http(url: string, request: UpstreamRequest): Promise<UpstreamResponse>;
  /** A unary gRPC call; resolves (never rejects) with what Envoy would deliver. */
  grpcUnary(url: string, request: GrpcRequest, timeoutMs: number): { reply: Promise<GrpcReply>; cancel: () => void };
  grpcStream(url: string, service: string, method: string, metadata: [string, string][], on: StreamEvents): GrpcStreamCall;
  close(): void;
}

export interface Platform {
  /** A file's bytes (a module given by path); throws with the reason when it cannot. */
  readFile(path: string): Uint8Array;
  /** A file's bytes, or undefined when there is none (a module's source map). */
  readFileIfExists(path: string): Uint8Array | undefined;
  /** Resolves after pending I/O callbacks have had a turn. */
  nextTurn(): Promise<void>;
  /**
   * Runs `work`, interrupting it after `ms` of wall time even inside a loop that never calls
   * out: the time limit for modules the budget rewrite cannot handle. Absent where the runtime
   * cannot interrupt (a page), where such modules then run without a limit.
   */
  interruptible?: { run<T>(work: () => T, ms: number): T; isTimeout(error: unknown): boolean };
  /** Clients for real servers; absent where the runtime has no sockets (a page). */
  connect?(): RealServers;
}

/** A page's runtime: no files, no sockets, no interrupts. */
const webPlatform: Platform = {
  readFile(path) {
    throw new Error(`cannot read ${path} here: give the module's bytes instead of a path`);
  },
  readFileIfExists: () => undefined,
  nextTurn: () => new Promise((resolve) => setTimeout(resolve, 0)),
};

/** Servers where the runtime has no sockets: every call fails, saying why. */
const offline: RealServers = {
  http: (url) => Promise.reject(new Error(`cannot reach ${url} here (no sockets): give the cluster a handler function`)),
  grpcUnary: (url) => ({ reply: Promise.resolve({ status: 14, message: `cannot reach ${url} here (no sockets)` }), cancel: () => {} }),
  grpcStream(url, _service, _method, _metadata, on) {
    const done = Promise.resolve().then(() => on.end(14, `cannot reach ${url} here (no sockets)`, []));
    return { write: () => {}, end: () => {}, cancel: () => {}, done };
  },
  close: () => {},
};

let current: Platform = webPlatform;

export function platform(): Platform { return current; }

/** Clients for real servers in this runtime (failing ones where it has no sockets). */
export function connectServers(): RealServers { return current.connect?.() ?? offline; }

/** Installs the runtime's adapter (node/platform.ts does, on import). */
export function setPlatform(p: Platform): void { current = p; }
