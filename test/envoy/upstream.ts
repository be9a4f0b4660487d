// Upstreams for the Envoy tier: real HTTP servers on loopback that answer as a scenario says
// and record what they received, so the test sees exactly what Envoy forwarded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface UpstreamBehaviour {
  status?: number;
  headers?: [string, string][];
  body?: string;
  /** Answer after this many milliseconds. */
  delayMs?: number;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  /** Header names lower-cased, values as sent (bytes as latin1 characters). */
  headers: [string, string][];
  trailers: [string, string][];
  body: Uint8Array;
}

export class RecordingUpstream {
  private constructor(private readonly server: http.Server, readonly port: number, readonly received: ReceivedRequest[]) {}

  static async start(behaviour: UpstreamBehaviour = {}): Promise<RecordingUpstream> {
    const received: ReceivedRequest[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const pairs = (raw: string[]) => { const out: [string, string][] = []; for (let i = 0; i < raw.length; i += 2) out.push([raw[i].toLowerCase(), raw[i + 1]]); return out; };
        received.push({ method: req.method ?? '', path: req.url ?? '', headers: pairs(req.rawHeaders), trailers: pairs(req.rawTrailers), body: new Uint8Array(Buffer.concat(chunks)) });
        const answer = () => {
          const body = Buffer.from(behaviour.body ?? '');
          res.sendDate = false;
          res.writeHead(behaviour.status ?? 200, [...(behaviour.headers ?? []), ['content-length', String(body.length)]].flat());
          res.end(body);
        };
        if (behaviour.delayMs) setTimeout(answer, behaviour.delayMs); else answer();
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new RecordingUpstream(server, (server.address() as AddressInfo).port, received);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A port on loopback where nothing listens (for clusters a scenario never reaches). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
