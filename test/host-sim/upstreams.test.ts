// Real parts where a user would meet them: an HTTP server and a gRPC server on loopback.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host } from '../../host-sim/index.js';
import { fixtureModule } from '../support/modules.js';
import { closeAfterTest } from '../support/hosts.js';

const identity = (b: Buffer) => b;
let grpcServer: grpc.Server;
let grpcPort = 0;
let httpServer: http.Server;
let httpPort = 0;
const seenByGrpc: { metadata: string | undefined; request: Buffer }[] = [];
/** Makes the gRPC server refuse its next call. */
let failNextCall = false;

beforeAll(async () => {
  grpcServer = new grpc.Server();
  const say = { path: '/probe.Echo/Say', requestStream: false, responseStream: false,
    requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
  grpcServer.addService({ Say: say }, {
    Say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      seenByGrpc.push({ metadata: call.metadata.get('x-probe-md')[0] as string | undefined, request: call.request });
      if (failNextCall) {
        failNextCall = false;
        callback({ code: grpc.status.PERMISSION_DENIED, details: 'denied by the server' });
        return;
      }
      callback(null, Buffer.from(`echo:${call.request.subarray(2).toString()}`));
    },
  });
  grpcPort = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => (e ? reject(e) : resolve(port))));

  httpServer = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(req.url === '/missing' ? 404 : 200, { 'content-type': 'text/plain', 'x-server': 'node' });
      res.end(`${req.method} ${req.url} host=${req.headers.host} body=${Buffer.concat(chunks).toString()}`);
    });
  });
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  httpPort = (httpServer.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => grpcServer.tryShutdown(() => resolve()));
  await new Promise<void>((resolve) => httpServer.close(() => resolve()));
});


describe('a real HTTP server as the upstream', () => {
  it('receives the request with the headers and body the filters left', async () => {
    const host = new Host({ clusters: { web: `http://127.0.0.1:${httpPort}` } });
    closeAfterTest(host);
    host.addPlugin({ module: fixtureModule('sdk-probe'), rootId: 'probe' });
    const r = await host.request({ method: 'POST', path: '/orders', authority: 'shop.local', body: ['a', 'b'],
      headers: { 'x-probe': 'body', 'x-probe-body-mode': 'upper' } });
    expect(r.status).toBe(200);
    expect(r.body).toBe('POST /orders host=shop.local body=AB');
    expect(r.headers).toContainEqual(['x-server', 'node']);
    expect(r.upstream!.cluster).toBe('web');
  });

  it('serves http_call from a real server', async () => {
    const host = new Host({ clusters: { backend: () => ({ status: 200 }), auth: `http://127.0.0.1:${httpPort}` } });
    closeAfterTest(host);
    host.addPlugin({ module: fixtureModule('sdk-probe'), rootId: 'probe' });
    const r = await host.request({ headers: { 'x-probe': 'http-call', 'x-probe-cluster': 'auth' } });
    expect(r.upstream!.headers).toContainEqual(['x-auth-body', 'GET /auth host=auth body=']);
  });

  it('answers 503 when the server is not there', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const host = new Host({ clusters: { gone: `http://127.0.0.1:${port}` } });
    closeAfterTest(host);
    const r = await host.request();
    expect(r.status).toBe(503);
    expect(r.responseCodeDetails).toBe('upstream_reset_before_response_started{remote_connection_failure|delayed_connect_error:_Connection_refused}');
    expect(r.body).toBe('upstream connect error or disconnect/reset before headers. reset reason: remote connection failure');
  });
});

describe('gRPC callouts over loopback', () => {
  it('makes a unary call to a real gRPC server and hands the response to the filter', async () => {
    const host = new Host({ clusters: { backend: () => ({ status: 200 }), echo: `http://127.0.0.1:${grpcPort}` } });
    closeAfterTest(host);
    host.addPlugin({ module: fixtureModule('sdk-probe'), rootId: 'probe' });
    const r = await host.request({ headers: { 'x-probe': 'grpc-call', 'x-probe-cluster': 'echo' } });
    expect(r.upstream!.headers).toContainEqual(['x-grpc-status', '0']);
    expect(r.upstream!.headers).toContainEqual(['x-grpc-response', 'echo:probe']);
    const seen = seenByGrpc.at(-1)!;
    expect(seen.metadata).toBe('1');
    expect([...seen.request]).toEqual([0x0a, 5, ...Buffer.from('probe')]);
  });

  it('delivers the server\'s error status and message', async () => {
    const host = new Host({ clusters: { backend: () => ({ status: 200 }), echo: `http://127.0.0.1:${grpcPort}` } });
    closeAfterTest(host);
    host.addPlugin({ module: fixtureModule('sdk-probe'), rootId: 'probe' });
    failNextCall = true;
    const r = await host.request({ headers: { 'x-probe': 'grpc-call', 'x-probe-cluster': 'echo' } });
    expect(r.upstream!.headers).toContainEqual(['x-grpc-status', String(grpc.status.PERMISSION_DENIED)]);
    expect(r.upstream!.headers).toContainEqual(['x-grpc-message', 'denied by the server']);
  });

  it('reports Unavailable when nothing listens at the cluster address', async () => {
    const host = new Host({ clusters: { backend: () => ({ status: 200 }), echo: 'http://127.0.0.1:1' } });
    closeAfterTest(host);
    host.addPlugin({ module: fixtureModule('sdk-probe'), rootId: 'probe' });
    const r = await host.request({ headers: { 'x-probe': 'grpc-call', 'x-probe-cluster': 'echo' } });
    expect(r.upstream!.headers).toContainEqual(['x-grpc-status', String(grpc.status.UNAVAILABLE)]);
  });

  it('gets ParseFailure for a gRPC call to an unknown cluster', async () => {
    const host = new Host({ clusters: { backend: () => ({ status: 200 }) } });
    closeAfterTest(host);
    host.addPlugin({ module: fixtureModule('sdk-probe'), rootId: 'probe' });
    const r = await host.request({ headers: { 'x-probe': 'grpc-call', 'x-probe-cluster': 'nowhere' } });
    expect(r.headers).toContainEqual(['x-grpc-call-result', '4']);
  });

  it('times out a gRPC call whose handler never answers, on the virtual clock', async () => {
    const host = new Host({ clusters: { backend: () => ({ status: 200 }), echo: { grpc: () => ({ hang: true }) } } });
    closeAfterTest(host);
    host.addPlugin({ module: fixtureModule('sdk-probe'), rootId: 'probe' });
    const r = await host.request({ headers: { 'x-probe': 'grpc-call', 'x-probe-cluster': 'echo' } }, { advanceClock: true });
    expect(r.upstream!.headers).toContainEqual(['x-grpc-status', '4']);
    expect(host.clock.now() - Date.UTC(2026, 0, 1)).toBe(500);
  });
});
