// Upstreams for the Envoy tier: real HTTP servers on loopback that answer as a scenario says
// and record what they received, so the test sees exactly what Envoy forwarded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { IGNORED_UPSTREAM_HEADERS, show, withoutIgnored, type UpstreamSeen } from './observation.js';

export interface UpstreamBehaviour {
  status?: number;
  headers?: [string, string][];
  body?: string;
  /** Answer after this many milliseconds (longer than the route's timeout: a hung upstream). */
  delayMs?: number;
  /** Close the connection instead of answering (Envoy sees a reset before the response). */
  reset?: boolean;
  /** How the first arrivals are answered, one entry each in order, each over the behaviour above; later ones get it as it is. */
  sequence?: UpstreamBehaviour[];
}

export interface ReceivedRequest {
  method: string;
  path: string;
  /** Header names and values as sent (bytes as latin1 characters). */
  headers: [string, string][];
  trailers: [string, string][];
  body: Uint8Array;
}

export class RecordingUpstream {
  /** Arrivals answered so far (where the behaviour's sequence stands). */
  private served = 0;

  private constructor(private readonly server: http.Server, readonly port: number, readonly received: ReceivedRequest[]) {}

  /** Starts the behaviour's sequence again (for the second host's run). */
  rewind(): void { this.served = 0; }

  static async start(base: UpstreamBehaviour = {}): Promise<RecordingUpstream> {
    const received: ReceivedRequest[] = [];
    let upstream: RecordingUpstream | undefined;
    // Envoy accepts up to 60 KiB of request headers: the upstream must not be the tighter limit.
    const server = http.createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const pairs = (raw: string[]) => { const out: [string, string][] = []; for (let i = 0; i < raw.length; i += 2) out.push([raw[i], raw[i + 1]]); return out; };
        received.push({ method: req.method ?? '', path: req.url ?? '', headers: pairs(req.rawHeaders), trailers: pairs(req.rawTrailers), body: new Uint8Array(Buffer.concat(chunks)) });
        const step = base.sequence?.[upstream!.served++];
        const behaviour = step ? { ...base, ...step } : base;
        const answer = () => {
          if (behaviour.reset) { req.socket.destroy(); return; }
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
    upstream = new RecordingUpstream(server, (server.address() as AddressInfo).port, received);
    return upstream;
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

const asBytes = (latin1: string) => new Uint8Array(Buffer.from(latin1, 'latin1'));

/** The upstream servers of one scenario run, one per cluster it serves, in arrival order. */
export class UpstreamSet {
  private arrivals: { cluster: string; request: ReceivedRequest }[] = [];
  private constructor(readonly servers: Map<string, RecordingUpstream>, readonly closed: number) {}

  /** A cluster given `null` has no server: connections to it are refused. */
  static async start(clusters: Record<string, UpstreamBehaviour | null>): Promise<UpstreamSet> {
    const servers = new Map<string, RecordingUpstream>();
    for (const [name, behaviour] of Object.entries(clusters)) if (behaviour) servers.set(name, await RecordingUpstream.start(behaviour));
    const set = new UpstreamSet(servers, await closedPort());
    for (const [cluster, server] of servers) {
      const push = server.received.push.bind(server.received);
      server.received.push = (...items: ReceivedRequest[]) => { for (const request of items) set.arrivals.push({ cluster, request }); return push(...items); };
    }
    return set;
  }

  /** Each served cluster's port. */
  ports(): Record<string, number> { return Object.fromEntries([...this.servers].map(([name, s]) => [name, s.port])); }

  /** Starts every server's sequence again. */
  rewind(): void { for (const s of this.servers.values()) s.rewind(); }

  /** Everything received since the last call, as the comparison shows it. */
  take(): UpstreamSeen[] {
    const taken = this.arrivals.splice(0);
    return taken.map(({ cluster, request }) => {
      const host = request.headers.find(([k]) => k.toLowerCase() === 'host')?.[1] ?? '';
      return {
        cluster, method: request.method, path: request.path, authority: show(asBytes(host)),
        headers: withoutIgnored(request.headers.filter(([k]) => k.toLowerCase() !== 'host').map(([k, v]) => [k, show(asBytes(v))]), IGNORED_UPSTREAM_HEADERS),
        body: show(request.body),
      };
    });
  }

  async close(): Promise<void> { for (const s of this.servers.values()) await s.close(); }
}
