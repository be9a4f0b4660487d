// An HTTP/1.1 client over a raw socket, so the test decides every byte Envoy receives: no
// header is added behind its back, header values may be any bytes, and a body goes out in the
// chunks (and with the pauses) the scenario gives, with trailers.
import net from 'node:net';
import tls from 'node:tls';
import type { ClientTls } from './pki.js';

export interface ClientRequest {
  method: string;
  path: string;
  authority: string;
  /** Values are bytes (a string is sent as UTF-8). */
  headers: [string, Uint8Array][];
  /** Body chunks, sent with chunked transfer encoding when present. */
  body?: Uint8Array[];
  trailers?: [string, Uint8Array][];
  /** Frame the body with content-length instead of chunked encoding (no trailers then). */
  contentLength?: boolean;
  /** Pause between body chunks, so Envoy sees each as its own read. */
  chunkPauseMs?: number;
}

export interface ClientResponse {
  status: number;
  headers: [string, Uint8Array][];
  body: Uint8Array;
  trailers: [string, Uint8Array][];
}

const CRLF = Buffer.from('\r\n');

function headerBlock(pairs: [string, Uint8Array][]): Buffer {
  return Buffer.concat(pairs.flatMap(([k, v]) => [Buffer.from(`${k}: `), Buffer.from(v), CRLF]));
}

/** Parses the response in `data`; undefined while it is incomplete. `closed`: the server closed the connection. */
function parseResponse(data: Buffer, method: string, closed: boolean): ClientResponse | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers: [string, Uint8Array][] = lines.slice(1).map((line) => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).toLowerCase(), new Uint8Array(Buffer.from(line.slice(colon + 1).trim(), 'latin1'))];
  });
  const header = (name: string) => headers.find(([k]) => k === name)?.[1];
  let rest = data.subarray(end + 4);
  if (method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)) return { status, headers, body: new Uint8Array(0), trailers: [] };
  const length = header('content-length');
  if (length) {
    const n = Number(Buffer.from(length).toString());
    return rest.length >= n ? { status, headers, body: new Uint8Array(rest.subarray(0, n)), trailers: [] } : undefined;
  }
  if (header('transfer-encoding') && Buffer.from(header('transfer-encoding')!).toString().toLowerCase().includes('chunked')) {
    const body: Buffer[] = [];
    for (;;) {
      const lineEnd = rest.indexOf('\r\n');
      if (lineEnd < 0) return undefined;
      const size = parseInt(rest.subarray(0, lineEnd).toString(), 16);
      if (size === 0) {
        const trailerEnd = rest.indexOf('\r\n\r\n', lineEnd - 2 < 0 ? 0 : lineEnd - 2);
        if (trailerEnd < 0) return undefined;
        const trailerText = rest.subarray(lineEnd + 2, trailerEnd).toString('latin1');
        const trailers: [string, Uint8Array][] = trailerText ? trailerText.split('\r\n').filter(Boolean).map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).toLowerCase(), new Uint8Array(Buffer.from(line.slice(colon + 1).trim(), 'latin1'))];
        }) : [];
        return { status, headers, body: new Uint8Array(Buffer.concat(body)), trailers };
      }
      if (rest.length < lineEnd + 2 + size + 2) return undefined;
      body.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      rest = rest.subarray(lineEnd + 2 + size + 2);
    }
  }
  return closed ? { status, headers, body: new Uint8Array(rest), trailers: [] } : undefined;
}

/**
 * Sends one request on a new connection and reads the response (status 0 when the connection
 * was reset). With `secure`, the connection is TLS (with a client certificate when given).
 */
export async function send(port: number, request: ClientRequest, timeoutMs = 30_000, secure?: ClientTls): Promise<ClientResponse> {
  const socket = secure
    ? tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: secure.ca, cert: secure.cert, key: secure.key })
    : net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => { socket.once(secure ? 'secureConnect' : 'connect', resolve); socket.once('error', reject); });
  const received: Buffer[] = [];
  const done = new Promise<ClientResponse>((resolve) => {
    const timer = setTimeout(() => { socket.destroy(); resolve({ status: 0, headers: [], body: new Uint8Array(0), trailers: [] }); }, timeoutMs);
    const attempt = (closed: boolean) => {
      const parsed = parseResponse(Buffer.concat(received), request.method, closed);
      if (parsed || closed) {
        clearTimeout(timer);
        socket.destroy();
        resolve(parsed ?? { status: 0, headers: [], body: new Uint8Array(0), trailers: [] });
      }
    };
    socket.on('data', (d: Buffer) => { received.push(d); attempt(false); });
    socket.on('close', () => attempt(true));
    socket.on('error', () => undefined);
  });
  const chunked = request.body !== undefined && !request.contentLength;
  const length = request.contentLength ? (request.body ?? []).reduce((n, c) => n + c.length, 0) : 0;
  const head = Buffer.concat([
    Buffer.from(`${request.method} ${request.path} HTTP/1.1\r\nhost: ${request.authority}\r\n`),
    headerBlock(request.headers),
    chunked ? Buffer.from('transfer-encoding: chunked\r\n') : Buffer.alloc(0),
    request.contentLength ? Buffer.from(`content-length: ${length}\r\n`) : Buffer.alloc(0),
    CRLF,
  ]);
  socket.write(head);
  if (request.contentLength) {
    for (const chunk of request.body ?? []) {
      if (request.chunkPauseMs) await new Promise((r) => setTimeout(r, request.chunkPauseMs));
      socket.write(chunk);
    }
  } else if (chunked) {
    const chunks = request.body!.filter((c) => c.length > 0).map((c) => Buffer.concat([Buffer.from(c.length.toString(16)), CRLF, Buffer.from(c), CRLF]));
    // The last chunk goes out with the end of the message, so Envoy sees it with end_of_stream.
    const end = Buffer.concat([chunks.pop() ?? Buffer.alloc(0), Buffer.from('0\r\n'), headerBlock(request.trailers ?? []), CRLF]);
    for (const chunk of chunks) {
      socket.write(chunk);
      if (request.chunkPauseMs) await new Promise((r) => setTimeout(r, request.chunkPauseMs));
    }
    socket.write(end);
  }
  return done;
}
