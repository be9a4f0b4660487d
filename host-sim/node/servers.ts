// Node's clients for clusters given as a real server's URL: HTTP/1.1 through node:http for
// routed requests and http_call, HTTP/2 cleartext through @grpc/grpc-js for gRPC.
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { bytesToText, textToBytes } from '../bytes.js';
import type { RealServers } from '../platform.js';
import type { UpstreamRequest, UpstreamResponse } from '../stream/types.js';
import type { GrpcReply, GrpcRequest, GrpcStreamCall, StreamEvents } from '../upstreams.js';

/** Node writes and reads header values as Latin-1: one character per byte. */
const toLatin1 = (text: string) => Buffer.from(textToBytes(text)).toString('latin1');
const fromLatin1 = (latin1: string) => bytesToText(new Uint8Array(Buffer.from(latin1, 'latin1')));

/** Hop-by-hop headers Envoy's HTTP/1 codec drops from what it hands on. */
const DROPPED_RESPONSE_HEADERS = new Set(['keep-alive', 'transfer-encoding']);

/** Wall-clock limit for real servers, so a hung server cannot hang a test run. */
const REAL_SERVER_TIMEOUT_MS = 30_000;

/** Sends a routed request or http_call to a real HTTP/1.1 server. */
function httpToServer(url: string, request: UpstreamRequest): Promise<UpstreamResponse> {
  const target = new URL(url);
  const header = (name: string) => request.headers.find(([k]) => k === name)?.[1];
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of request.headers) {
    if (k.startsWith(':')) continue;
    const existing = headers[k];
    headers[k] = existing === undefined ? toLatin1(v) : ([] as string[]).concat(existing, toLatin1(v));
  }
  headers.host = toLatin1(header(':authority') ?? target.host);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: target.hostname, port: target.port, method: header(':method') ?? 'GET', path: header(':path') ?? '/', headers,
      timeout: REAL_SERVER_TIMEOUT_MS,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const out: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i].toLowerCase();
          if (!DROPPED_RESPONSE_HEADERS.has(name)) out.push([name, fromLatin1(res.rawHeaders[i + 1])]);
        }
        const trailers: [string, string][] = [];
        for (let i = 0; i < res.rawTrailers.length; i += 2) trailers.push([res.rawTrailers[i].toLowerCase(), fromLatin1(res.rawTrailers[i + 1])]);
        resolve({ status: res.statusCode ?? 502, headers: out, body: new Uint8Array(Buffer.concat(chunks)), trailers });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${REAL_SERVER_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(Buffer.from(request.body));
  });
}

const identity = (b: Buffer) => b;

/** gRPC clients to real servers, one per address, closed with the host. */
class GrpcClients {
  private readonly clients = new Map<string, grpc.Client>();

  client(url: string): grpc.Client {
    const address = url.replace(/^(grpc|https?):\/\//, '');
    let client = this.clients.get(address);
    if (!client) {
      client = new grpc.Client(address, grpc.credentials.createInsecure());
      this.clients.set(address, client);
    }
    return client;
  }

  static metadata(pairs: [string, string][]): grpc.Metadata {
    const md = new grpc.Metadata();
    for (const [k, v] of pairs) {
      if (k.startsWith(':') || k === 'content-type' || k === 'te') continue;
      md.add(k, v);
    }
    return md;
  }

  static pairs(md: grpc.Metadata | undefined): [string, string][] {
    if (!md) return [];
    const out: [string, string][] = [];
    for (const [k, values] of Object.entries(md.getMap())) out.push([k, String(values)]);
    return out;
  }

  /** A unary call to a real server: resolves (never rejects) with what Envoy would deliver. */
  unary(url: string, request: GrpcRequest, timeoutMs: number): { reply: Promise<GrpcReply>; cancel: () => void } {
    let initial: [string, string][] = [];
    let call: grpc.ClientUnaryCall | undefined;
    const reply = new Promise<GrpcReply>((resolve) => {
      const deadline = Date.now() + Math.min(timeoutMs > 0 ? timeoutMs : REAL_SERVER_TIMEOUT_MS, REAL_SERVER_TIMEOUT_MS);
      call = this.client(url).makeUnaryRequest(`/${request.service}/${request.method}`, identity, identity,
        Buffer.from(request.message), GrpcClients.metadata(request.metadata), { deadline },
        (error: grpc.ServiceError | null, response?: Buffer) => {
          if (error) {
            resolve({ status: error.code, message: error.details, initialMetadata: initial, trailingMetadata: GrpcClients.pairs(error.metadata) });
          } else {
            resolve({ status: 0, response: new Uint8Array(response ?? Buffer.alloc(0)), initialMetadata: initial });
          }
        });
      call.on('metadata', (md: grpc.Metadata) => { initial = GrpcClients.pairs(md); });
    });
    return { reply, cancel: () => call?.cancel() };
  }

  /** A bidirectional stream to a real server; events arrive through `on`. */
  stream(url: string, service: string, method: string, metadata: [string, string][], on: StreamEvents): GrpcStreamCall {
    const call = this.client(url).makeBidiStreamRequest(`/${service}/${method}`, identity, identity, GrpcClients.metadata(metadata));
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => { resolveDone = resolve; });
    let trailers: [string, string][] = [];
    call.on('metadata', (md: grpc.Metadata) => on.metadata(GrpcClients.pairs(md)));
    call.on('data', (bytes: Buffer) => on.message(new Uint8Array(bytes)));
    call.on('status', (status: grpc.StatusObject) => {
      trailers = GrpcClients.pairs(status.metadata);
      on.end(status.code, status.details, trailers);
      resolveDone();
    });
    call.on('error', () => { /* reported through 'status' */ });
    return {
      write: (message, endStream) => { call.write(Buffer.from(message)); if (endStream) call.end(); },
      end: () => call.end(),
      cancel: () => call.cancel(),
      done,
    };
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** Real servers reached from Node: one gRPC client per address, closed with the host. */
export function nodeServers(): RealServers {
  const grpcClients = new GrpcClients();
  return {
    http: httpToServer,
    grpcUnary: (url, request, timeoutMs) => grpcClients.unary(url, request, timeoutMs),
    grpcStream: (url, service, method, metadata, on) => grpcClients.stream(url, service, method, metadata, on),
    close: () => grpcClients.close(),
  };
}
