// A real OCI registry for tests: Debian's docker-registry (CNCF distribution) on 127.0.0.1 with a
// free port, optionally with htpasswd basic auth and TLS. Tests start it and stop it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSign, randomUUID } from 'node:crypto';
import http from 'node:http';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, listening } from './ports.js';

export interface TestRegistry {
  /** host:port */
  address: string;
  storage: string;
  caFile?: string;
  stop(): Promise<void>;
}

export const REGISTRY_BINARY = '/usr/bin/docker-registry';
export const hasRegistry = () => existsSync(REGISTRY_BINARY);

/**
 * A token service as Docker Hub and GHCR run one: it checks Basic credentials and answers with a
 * JWT (RS256, its certificate in x5c) that the registry verifies against its root bundle.
 */
async function startTokenService(dir: string, user: string, password: string, service: string) {
  const key = join(dir, 'token-key.pem');
  const cert = join(dir, 'token-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=wfk-token', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const der = readFileSync(cert, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token');
    const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    if (req.headers.authorization !== expected) { res.writeHead(401).end('{"details":"bad credentials"}'); return; }
    const access = (url.searchParams.getAll('scope')).map((scope) => {
      const [type, name, actions] = scope.split(':');
      return { type, name, actions: actions.split(',') };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [der] }));
    const claims = b64url(JSON.stringify({ iss: 'wfk-test-issuer', sub: user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access }));
    const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(readFileSync(key));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: `${header}.${claims}.${b64url(signature)}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { realm: `http://127.0.0.1:${port}/token`, cert, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export async function startRegistry(options: { user?: string; password?: string; tls?: boolean; bearer?: boolean } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'wfk-registry-'));
  const storage = join(dir, 'storage');
  const port = await freePort();
  const lines = ['version: 0.1', 'log:', '  level: error', 'storage:', '  filesystem:', `    rootdirectory: ${storage}`, '  delete:', '    enabled: true',
    'http:', `  addr: 127.0.0.1:${port}`, '  secret: test-secret'];
  let caFile: string | undefined;
  if (options.tls) {
    caFile = join(dir, 'ca.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', caFile], { stdio: 'ignore' });
    lines.push('  tls:', `    certificate: ${caFile}`, `    key: ${key}`);
  }
  let tokenService: Awaited<ReturnType<typeof startTokenService>> | undefined;
  if (options.bearer) {
    tokenService = await startTokenService(dir, options.user ?? '', options.password ?? '', 'wfk-registry');
    lines.push('auth:', '  token:', `    realm: ${tokenService.realm}`, '    service: wfk-registry', '    issuer: wfk-test-issuer', `    rootcertbundle: ${tokenService.cert}`);
  } else if (options.user) {
    const htpasswd = join(dir, 'htpasswd');
    writeFileSync(htpasswd, execFileSync('htpasswd', ['-Bbn', options.user, options.password ?? ''], { encoding: 'utf8' }));
    lines.push('auth:', '  htpasswd:', '    realm: wfk-test', `    path: ${htpasswd}`);
  }
  const config = join(dir, 'config.yml');
  writeFileSync(config, `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn(REGISTRY_BINARY, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (await listening(port)) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`docker-registry did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    address,
    storage,
    caFile,
    stop: async () => {
      await tokenService?.close();
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) { resolve(); return; }
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
