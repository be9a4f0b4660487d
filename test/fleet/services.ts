// The fleet's real parts, started by the tests on 127.0.0.1 with free ports and stopped by them:
// Redis (Debian's redis-server) and envoyproxy/ratelimit, built from the Go module proxy into a
// git-ignored cache (`node --import tsx test/fleet/install.ts`, which .ci/run calls).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../cli/build.js';
import { freePort, listening } from '../support/ports.js';

export const RATELIMIT_MODULE = 'github.com/envoyproxy/ratelimit';
/** The service's main branch of January 2026 (it tags rarely; v1.4.0 predates its Go 1.25 build). */
export const RATELIMIT_VERSION = 'v1.4.1-0.20260122083618-3fb702589d36';
export const RATELIMIT_BINARY = join(ROOT, '.cache', 'ratelimit', RATELIMIT_VERSION, 'service_cmd');
export const REDIS_BINARY = '/usr/bin/redis-server';

/** Why the fleet cannot run here, or undefined. */
export function fleetMissingReason(): string | undefined {
  if (!existsSync(REDIS_BINARY)) return `${REDIS_BINARY} is missing (Debian: apt-get install redis-server)`;
  if (!existsSync(RATELIMIT_BINARY)) return `${RATELIMIT_BINARY} is missing (run: node --import tsx test/fleet/install.ts)`;
  return undefined;
}

async function waitFor(what: string, child: ChildProcess, output: () => string, ready: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready()) return;
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}:\n${output()}`);
    if (Date.now() > deadline) throw new Error(`${what} was not ready in ${timeoutMs} ms:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops a child, paused or not (a stopped process ignores SIGTERM until it runs again); SIGKILL after 5 s. */
function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) { resolve(); return; }
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => { clearTimeout(kill); resolve(); });
    child.kill('SIGCONT');
    child.kill('SIGTERM');
  });
}

/** The process's scheduler state from /proc (R, S, T for stopped, ...). */
function processState(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
  } catch {
    return undefined;
  }
}

/** Redis on a port of its own, no persistence. stop() and start() again keep the port. */
export class Redis {
  private child?: ChildProcess;
  private log = '';
  private constructor(readonly port: number) {}

  static async start(): Promise<Redis> {
    const redis = new Redis(await freePort());
    await redis.start();
    return redis;
  }

  async start(): Promise<void> {
    this.child = spawn(REDIS_BINARY, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => { this.log += d.toString(); });
    this.child.stderr!.on('data', (d: Buffer) => { this.log += d.toString(); });
    await waitFor('redis-server', this.child, () => this.log, () => this.ping());
  }

  /** True when Redis answers PING. */
  ping(): Promise<boolean> {
    return new Promise((resolve) => {
      const c = connect(this.port, '127.0.0.1', () => c.write('PING\r\n'));
      c.on('data', (d) => { c.destroy(); resolve(d.toString().startsWith('+PONG')); });
      c.on('error', () => resolve(false));
    });
  }

  async stop(): Promise<void> { if (this.child) await stopChild(this.child); }
}

/** envoyproxy/ratelimit with the given configuration files (name -> YAML), gRPC on grpcPort. */
export class RateLimitService {
  private child?: ChildProcess;
  private log = '';
  private constructor(readonly grpcPort: number, readonly httpPort: number, private readonly debugPort: number, private readonly dir: string, private readonly redisPort: number) {}

  static async start(redis: Redis, configs: Record<string, string>): Promise<RateLimitService> {
    const dir = mkdtempSync(join(tmpdir(), 'wfk-ratelimit-'));
    const configDir = join(dir, 'ratelimit', 'config');
    mkdirSync(configDir, { recursive: true });
    for (const [name, yaml] of Object.entries(configs)) writeFileSync(join(configDir, `${name}.yaml`), yaml);
    const service = new RateLimitService(await freePort(), await freePort(), await freePort(), dir, redis.port);
    await service.start();
    return service;
  }

  async start(): Promise<void> {
    this.child = spawn(RATELIMIT_BINARY, [], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HOST: '127.0.0.1', PORT: String(this.httpPort), GRPC_HOST: '127.0.0.1', GRPC_PORT: String(this.grpcPort),
        DEBUG_HOST: '127.0.0.1', DEBUG_PORT: String(this.debugPort),
        RUNTIME_ROOT: this.dir, RUNTIME_SUBDIRECTORY: 'ratelimit', RUNTIME_WATCH_ROOT: 'false', RUNTIME_IGNOREDOTFILES: 'true',
        USE_STATSD: 'false', LOG_LEVEL: 'warn', LOG_FORMAT: 'text',
        // The service tells clients their limit, remaining and reset in RateLimit-* headers.
        LIMIT_RESPONSE_HEADERS_ENABLED: 'true',
        REDIS_SOCKET_TYPE: 'tcp', REDIS_URL: `127.0.0.1:${this.redisPort}`,
      },
    });
    this.child.stdout!.on('data', (d: Buffer) => { this.log += d.toString(); });
    this.child.stderr!.on('data', (d: Buffer) => { this.log += d.toString(); });
    await waitFor('ratelimit', this.child, () => this.log, async () => (await listening(this.grpcPort)) &&
      fetch(`http://127.0.0.1:${this.httpPort}/healthcheck`).then((r) => r.ok, () => false));
  }

  /** Freezes the process: connections open, no answers (a service that hangs). */
  async pause(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error('the rate limit service is not running');
    this.child!.kill('SIGSTOP');
    // Stopping takes effect asynchronously: wait until the kernel reports the process stopped.
    for (let waited = 0; processState(pid) !== 'T'; waited += 10) {
      if (waited > 2_000) throw new Error(`the rate limit service (pid ${pid}) did not stop: state ${processState(pid)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  resume(): void { this.child?.kill('SIGCONT'); }

  /** What the service logged (its configuration errors land here). */
  output(): string { return this.log; }

  async stop(): Promise<void> { if (this.child) await stopChild(this.child); }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
