// A client for the OCI distribution API, with what real registries need: blob existence checks,
// POST-then-PUT uploads with relative or absolute Location, cross-repository mounts, manifest
// media types, redirects that never carry credentials to another origin, and Basic or Bearer
// auth from flags, the environment or ~/.docker/config.json. Secrets are never printed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import { join } from 'node:path';

import { describeSystemError, RegistryError } from '../errors.js';

export { RegistryError };

export interface Reference { registry: string; repository: string; tag?: string; digest?: string }

/** Parses "registry[:port]/repository[:tag][@sha256:...]" (an oci:// prefix is allowed). */
export function parseReference(text: string): Reference {
  const ref = text.replace(/^oci:\/\//, '');
  const slash = ref.indexOf('/');
  // user:password@registry: the text holds a secret, so it is never echoed.
  if (ref.slice(0, slash < 0 ? ref.length : slash).includes('@')) {
    throw new RegistryError('a reference cannot carry credentials (user:password@registry): pass --username with --password-stdin, set WFK_REGISTRY_USERNAME/PASSWORD, or docker login (the reference is not printed: it holds a secret)');
  }
  if (slash <= 0) throw new RegistryError(`"${text}" is not a reference: write <registry>/<repository>:<tag>, e.g. localhost:5000/filters/my-filter:1.0`);
  const registry = ref.slice(0, slash);
  let rest = ref.slice(slash + 1);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) { digest = rest.slice(at + 1); rest = rest.slice(0, at); }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > 0) { tag = rest.slice(colon + 1); rest = rest.slice(0, colon); }
  if (!/^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/.test(rest)) throw new RegistryError(`"${rest}" is not a valid repository name (lower-case letters, digits, ., _, - and /)`);
  if (tag !== undefined && !/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(tag)) throw new RegistryError(`"${tag}" is not a valid tag`);
  if (digest !== undefined && !/^sha256:[0-9a-f]{64}$/.test(digest)) throw new RegistryError(`"${digest}" is not a sha256 digest`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, repository: rest, tag, digest };
}

export interface RegistryOptions {
  username?: string;
  password?: string;
  /** A PEM file with the CA that signed the registry's certificate. */
  caFile?: string;
  /** Allow plain HTTP to a registry that is not on this machine. */
  plainHttp?: boolean;
  /** Where Docker's config lives (default ~/.docker/config.json). */
  dockerConfig?: string;
  /** Largest manifest or image config accepted (default 4 MiB). */
  maxManifestBytes?: number;
  /** Largest module (and compressed layer) accepted (default 64 MiB: Envoy keeps modules in memory). */
  maxModuleBytes?: number;
  /** Longest the whole transfer may take, in ms (default 5 minutes). */
  timeoutMs?: number;
  /** Longest a response may go without a byte, in ms (default 30 s). */
  idleTimeoutMs?: number;
}

export const DEFAULT_LIMITS = { maxManifestBytes: 4 << 20, maxModuleBytes: 64 << 20, timeoutMs: 300_000, idleTimeoutMs: 30_000 };

interface Credentials { username: string; password: string; source: string }

/** Only this machine's own names are local (plain HTTP allowed): not any name that starts with "127.". */
function isLocal(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '127.0.0.1' || host === '::1';
}

const DOCKER_HUB = ['docker.io', 'index.docker.io', 'registry-1.docker.io'];

/** Credentials for `registry`: flags, then WFK_REGISTRY_USERNAME/PASSWORD, then Docker's config. */
function credentialsFor(registry: string, options: RegistryOptions): Credentials | undefined {
  if (options.username !== undefined) {
    return { username: options.username, password: options.password ?? process.env.WFK_REGISTRY_PASSWORD ?? '', source: 'the command line' };
  }
  if (process.env.WFK_REGISTRY_USERNAME) {
    return { username: process.env.WFK_REGISTRY_USERNAME, password: options.password ?? process.env.WFK_REGISTRY_PASSWORD ?? '', source: 'WFK_REGISTRY_USERNAME/PASSWORD' };
  }
  // Docker's own rule: DOCKER_CONFIG names the folder of config.json.
  const path = options.dockerConfig ?? join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  let config: { auths?: Record<string, { auth?: string; username?: string; password?: string }>; credHelpers?: Record<string, string>; credsStore?: string };
  try {
    config = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
  // Docker Hub's credentials live under its legacy index URL.
  const keys = DOCKER_HUB.includes(registry) ? ['https://index.docker.io/v1/', ...DOCKER_HUB] : [registry, `https://${registry}`, `http://${registry}`];
  // As in Docker: a registry's own credential helper first, then the default store, then plain auths.
  const ownHelper = keys.map((k) => config.credHelpers?.[k]).find((h) => h !== undefined);
  if (ownHelper) return fromHelper(ownHelper, keys[0], path, true);
  if (config.credsStore) {
    const stored = fromHelper(config.credsStore, keys[0], path, false);
    if (stored) return stored;
  }
  const entry = keys.map((k) => config.auths?.[k]).find((e) => e !== undefined);
  if (entry?.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source: path };
  }
  if (entry?.username) return { username: entry.username, password: entry.password ?? '', source: path };
  return undefined;
}

/** Asks docker-credential-<helper>; a helper named for this registry must answer, the default store may not know it. */
function fromHelper(helper: string, serverUrl: string, configPath: string, required: boolean): Credentials | undefined {
  try {
    const out = JSON.parse(execFileSync(`docker-credential-${helper}`, ['get'], { input: serverUrl, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] }));
    return { username: out.Username, password: out.Secret, source: `docker-credential-${helper}` };
  } catch {
    if (!required) return undefined;
    throw new RegistryError(`the Docker credential helper docker-credential-${helper} (from ${configPath}) gave no credentials for ${serverUrl}`);
  }
}

interface Response { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/(\w+)="([^"]*)"/g)) params[m[1]] = m[2];
  return { scheme, params };
}

export class RegistryClient {
  private readonly base: URL;
  private readonly agent?: https.Agent;
  private authorization?: string;
  private readonly credentials?: Credentials;
  /** When the whole transfer must be over (ms since the epoch). */
  private readonly deadline: number;
  readonly limits: Required<Pick<RegistryOptions, 'maxManifestBytes' | 'maxModuleBytes' | 'timeoutMs' | 'idleTimeoutMs'>>;

  constructor(readonly registry: string, options: RegistryOptions = {}) {
    this.limits = {
      maxManifestBytes: options.maxManifestBytes ?? DEFAULT_LIMITS.maxManifestBytes,
      maxModuleBytes: options.maxModuleBytes ?? DEFAULT_LIMITS.maxModuleBytes,
      timeoutMs: options.timeoutMs ?? DEFAULT_LIMITS.timeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_LIMITS.idleTimeoutMs,
    };
    this.deadline = Date.now() + this.limits.timeoutMs;
    const plain = options.plainHttp || isLocal(registry);
    // "docker.io" names Docker Hub, whose API is served from another host.
    const apiHost = DOCKER_HUB.includes(registry) ? 'registry-1.docker.io' : registry;
    this.base = new URL(`${plain && !options.caFile ? 'http' : 'https'}://${apiHost}`);
    if (options.caFile) {
      let ca: Buffer;
      try { ca = readFileSync(options.caFile); } catch (e) { throw new RegistryError(`cannot read the CA file ${options.caFile}: ${describeSystemError(e)}`); }
      this.agent = new https.Agent({ ca, keepAlive: false });
    }
    this.credentials = credentialsFor(registry, options);
  }

  /**
   * One HTTP exchange. The answer's body may be at most `maxBytes` (told in advance by
   * content-length, or counted as it arrives); the exchange fails when the transfer's deadline
   * passes or no byte arrives for the idle timeout, so a registry that trickles cannot hang it.
   */
  private send(method: string, url: URL, headers: Record<string, string>, body?: Uint8Array, maxBytes = this.limits.maxManifestBytes, what = 'the answer'): Promise<Response> {
    const client = url.protocol === 'https:' ? https : http;
    const left = this.deadline - Date.now();
    if (left <= 0) return Promise.reject(this.timedOut());
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | undefined, response?: Response) => {
        if (settled) return;
        settled = true;
        clearTimeout(overall);
        if (error) { req.destroy(); reject(error); } else resolve(response!);
      };
      const req = client.request(url, { method, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) },
        agent: url.protocol === 'https:' ? this.agent : undefined, timeout: this.limits.idleTimeoutMs }, (res) => {
        const tooBig = () => new RegistryError(`${what} from ${this.registry} is larger than ${maxBytes} bytes: refusing it (raise the limit with --max-module-bytes or --max-manifest-bytes if it is right)`);
        if (Number(res.headers['content-length'] ?? 0) > maxBytes) { finish(tooBig()); return; }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) finish(tooBig());
          else chunks.push(c);
        });
        res.on('end', () => {
          const answer = Buffer.concat(chunks);
          // Go's TLS servers (the CNCF registry among them) answer plain HTTP with this 400.
          if (url.protocol === 'http:' && res.statusCode === 400 && answer.includes('HTTP request to an HTTPS server')) finish(this.speaksTls());
          else finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, body: answer });
        });
        res.on('error', (e) => finish(e));
      });
      const overall = setTimeout(() => finish(this.timedOut()), left);
      req.on('timeout', () => finish(new RegistryError(`${this.registry} sent nothing for ${this.limits.idleTimeoutMs / 1000} s: giving up`)));
      req.on('error', (e: NodeJS.ErrnoException) => {
        // Plain HTTP to a TLS port: the server hangs up, or sends bytes that are not HTTP.
        if (url.protocol === 'http:' && (e.code === 'ECONNRESET' || e.code?.startsWith('HPE_'))) { finish(this.speaksTls()); return; }
        const tls = /certificate|self.signed|SSL|TLS/i.test(e.message);
        finish(new RegistryError(`cannot reach ${this.registry}: ${tls ? `${e.message} (TLS: pass the CA that signed the registry's certificate with --ca-file)` : describeSystemError(e)}`));
      });
      req.end(body ? Buffer.from(body) : undefined);
    });
  }

  private speaksTls(): RegistryError {
    return new RegistryError(`${this.registry} does not answer plain HTTP: it speaks HTTPS; pass the CA that signed its certificate with --ca-file <pem>`);
  }

  private timedOut(): RegistryError {
    return new RegistryError(`the transfer with ${this.registry} took longer than ${this.limits.timeoutMs / 1000} s: giving up (raise it with --timeout)`);
  }

  /** Answers an auth challenge: Basic with the credentials, or a Bearer token from the realm. */
  private async authenticate(challenge: string, scope: string): Promise<void> {
    const { scheme, params } = parseChallenge(challenge);
    const basic = this.credentials ? `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}` : undefined;
    if (scheme === 'basic') {
      if (!basic) throw this.refused();
      this.authorization = basic;
      return;
    }
    if (scheme !== 'bearer' || !params.realm) throw new RegistryError(`${this.registry} asked for an unsupported authentication: ${scheme}`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? scope);
    // The password goes only to the registry's own host or to a token service over HTTPS.
    const trusted = url.hostname === this.base.hostname || url.protocol === 'https:';
    const res = await this.send('GET', url, basic && trusted ? { authorization: basic } : {});
    if (basic && !trusted && (res.status === 401 || res.status === 403)) {
      throw new RegistryError(`${this.registry} sends logins to ${url.origin} over plain HTTP on another host; the credentials were not sent there`);
    }
    if (res.status === 401 || res.status === 403) throw this.refused();
    if (res.status !== 200) throw new RegistryError(`the token service ${url.origin} answered ${res.status}`);
    const token = JSON.parse(res.body.toString('utf8'));
    this.authorization = `Bearer ${token.token ?? token.access_token}`;
  }

  private refused(): RegistryError {
    return new RegistryError(this.credentials
      ? `${this.registry} refused the credentials from ${this.credentials.source} (wrong username or password?)`
      : `${this.registry} needs credentials: pass --username with --password-stdin, set WFK_REGISTRY_USERNAME/PASSWORD, or docker login`);
  }

  /** A request to the registry, authenticating once when challenged; its answer may be at most `maxBytes`. */
  async request(method: string, path: string, scope: string, headers: Record<string, string> = {}, body?: Uint8Array,
    maxBytes = this.limits.maxManifestBytes, what = 'the answer'): Promise<Response> {
    const url = new URL(path, this.base);
    // An upload location may point at another origin (a storage service); it never gets our credentials.
    const sameOrigin = url.origin === this.base.origin;
    const withAuth = () => ({ ...headers, ...(this.authorization && sameOrigin ? { authorization: this.authorization } : {}) });
    let res = await this.send(method, url, withAuth(), body, maxBytes, what);
    if (res.status === 401 && res.headers['www-authenticate']) {
      await this.authenticate(String(res.headers['www-authenticate']), scope);
      res = await this.send(method, url, withAuth(), body, maxBytes, what);
      if (res.status === 401) throw this.refused();
    }
    return res;
  }

  /** Follows redirects for blob downloads of at most `maxBytes`; credentials go only to the registry's own origin. */
  async download(path: string, scope: string, maxBytes: number, what: string): Promise<Response> {
    let res = await this.request('GET', path, scope, {}, undefined, maxBytes, what);
    let url = new URL(path, this.base);
    for (let hops = 0; hops < 5 && [301, 302, 303, 307, 308].includes(res.status) && res.headers.location; hops++) {
      url = new URL(String(res.headers.location), url);
      const sameOrigin = url.origin === this.base.origin;
      res = await this.send('GET', url, sameOrigin && this.authorization ? { authorization: this.authorization } : {}, undefined, maxBytes, what);
    }
    return res;
  }

  location(res: Response, path: string): string {
    const location = res.headers.location;
    if (!location) throw new RegistryError(`${this.registry} gave no upload location for ${path}`);
    return new URL(String(location), new URL(path, this.base)).toString();
  }
}

export function fail(registry: string, what: string, res: Response): RegistryError {
  let detail = '';
  try {
    const errors = JSON.parse(res.body.toString('utf8')).errors as { code: string; message: string }[];
    detail = errors.map((e) => `${e.code}: ${e.message}`).join('; ');
  } catch {
    detail = res.body.toString('utf8').slice(0, 200);
  }
  return new RegistryError(`${what} failed at ${registry}: HTTP ${res.status}${detail ? ` (${detail})` : ''}`);
}
