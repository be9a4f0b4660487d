// The SDK matches paths as Envoy normalizes them. Each path goes to an Envoy that does not
// normalize (the probe normalizes what it sees with the SDK) and to Envoys with normalize_path,
// merge_slashes and each escaped-slash action; the SDK's answer must be Envoy's.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cluster, httpBootstrap, wasmFilter } from '../../cli/envoy/resources.js';
import { send } from '../../cli/envoy/client.js';
import { EnvoyProcess, envoyMissingReason } from '../../cli/envoy/process.js';
import { moduleFile } from './scenario.js';

const PATHS = [
  '/admin', '/./admin', '/foo/../admin', '/foo/./../admin/x', '/../admin', '/a/b/../../admin', '/%61dmin', '/%41dmin', '/ad%6Din/x',
  '/admin%2Fx', '/admin%2fx', '/admin%5Cx', '/admin\\x', '//admin', '/a//b///c', '/admin/..%2F..%2Fsecret', '/%2e%2e/admin', '/%2E/admin',
  '/.%2e/admin', '/admin%00x', '/admin%zz', '/admin%', '/%7Euser', '/%20x', '/a%2Bb', '/a+b', '/%C3%A9', '/admin;x=1', '/admin/.',
  '/admin/..', '/ADMIN', '/a/./b/./c/', '/a/%2e%2e/b', '/%252e%252e/admin', '/a/../b?x=/../y&z=%61', '/a%2eb', '/a/..;x/b', '/a/.;/b',
  '/%2e%2e%2fadmin', '/a\\..\\admin', '/%7b%7B', '/a%3Fb', '/a/b/..', '/..', '/.', 'http://example.com/admin', 'http://example.com/a/../b',
];

/** Envoy's escaped-slash actions and the SDK's matching mode. */
const MODES = [
  { action: 'UNESCAPE_AND_FORWARD', sdk: 'unescape' },
  { action: 'KEEP_UNCHANGED', sdk: 'keep' },
  { action: 'REJECT_REQUEST', sdk: 'reject' },
];

let upstream: Server;
let port = 0;

async function start(normalization: Record<string, unknown>): Promise<EnvoyProcess> {
  const bootstrap = httpBootstrap({
    admin: { address: '127.0.0.1', port: 0 }, listener: { address: '127.0.0.1', port: 0 }, routeName: 'r', virtualHost: 'all',
    routes: [{ match: { prefix: '/' }, route: { cluster: 'backend' } }],
    filters: [wasmFilter({ filter: 'probe', modulePath: moduleFile('fixture:host-probe'), rootId: '', vmId: 'probe' })],
    clusters: [cluster('backend', '127.0.0.1', port, false, 'STATIC')],
  });
  const hcm = (bootstrap as any).static_resources.listeners[0].filter_chains[0].filters[0].typed_config; // eslint-disable-line @typescript-eslint/no-explicit-any
  Object.assign(hcm, normalization);
  return EnvoyProcess.start(bootstrap, { concurrency: 1 });
}

/** What the probe logged for one request: its lines after `before`. */
async function probe(envoy: EnvoyProcess, path: string, action: string): Promise<{ status: number; lines: string[] }> {
  const before = envoy.logLines().length;
  const headers: [string, Uint8Array][] = [['x-probe', Buffer.from(action)], ['x-property', Buffer.from('request/path')]];
  const r = await send(envoy.port, { method: 'GET', path, authority: 'example.com', headers });
  await envoy.idle();
  return { status: r.status, lines: envoy.logLines().slice(before).map((l) => l.message.replace(/^wasm log probe probe: /, '')) };
}

describe.skipIf(envoyMissingReason() !== undefined)('paths are normalized as Envoy normalizes them', () => {
  beforeAll(async () => {
    upstream = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    port = (upstream.address() as AddressInfo).port;
  });
  afterAll(() => upstream.close());

  it('the SDK normalizes each raw path to what Envoy forwards, and fails where Envoy refuses', async () => {
    const raw = await start({});
    const sdk = new Map<string, Record<string, string>>();
    try {
      for (const path of PATHS) {
        const { status, lines } = await probe(raw, path, 'normalize');
        expect(status, path).toBe(200);
        const out: Record<string, string> = {};
        for (const line of lines) {
          const m = line.match(/^normalized (\w+): (.*)$/);
          if (m) out[m[1]] = m[2];
        }
        expect(Object.keys(out), path).toHaveLength(3);
        sdk.set(path, out);
      }
    } finally { await raw.stop(); }

    for (const mode of MODES) {
      const envoy = await start({ normalize_path: true, merge_slashes: true, path_with_escaped_slashes_action: mode.action });
      try {
        for (const path of PATHS) {
          const { status, lines } = await probe(envoy, path, 'property');
          const ours = sdk.get(path)![mode.sdk];
          if (status === 400) {
            expect(ours, `${mode.action} ${path}: Envoy refuses it`).toMatch(/^problem: /);
            continue;
          }
          expect(status, `${mode.action} ${path}`).toBe(200);
          const hex = lines.map((l) => l.match(/^property request\/path: hex=([0-9a-f]*)$/)?.[1]).find((h) => h !== undefined)!;
          expect(ours, `${mode.action} ${path}`).toBe(Buffer.from(hex, 'hex').toString('latin1'));
        }
      } finally { await envoy.stop(); }
    }
  }, 120_000);
});
