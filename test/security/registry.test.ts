// Findings of the attack review against wfk pull and push: a hostile registry cannot exhaust
// memory (gzip bombs, huge manifests) or hang a pull (trickled bytes, silence), and credentials
// go only to the registry or an HTTPS token service, never echoed.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../cli/paths.js';
import { MEDIA, sha256, tarOne } from '../../cli/oci/layout.js';
import { pull, push } from '../../cli/oci/transfer.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) { s.closeAllConnections(); await new Promise((r) => s.close(r)); }
});

async function serve(handler: http.RequestListener, host = '127.0.0.1'): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return `${host}:${(server.address() as AddressInfo).port}`;
}

/** A registry that serves one image whose layer is `layer` (tar+gzip). */
function imageRegistry(layer: Uint8Array): http.RequestListener {
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociManifest,
    layers: [{ mediaType: MEDIA.ociLayerTarGzip, digest: sha256(layer), size: layer.length }] }));
  return (req, res) => {
    if (req.url!.includes('/manifests/')) res.writeHead(200, { 'content-type': MEDIA.ociManifest }).end(manifest);
    else if (req.url!.includes('/blobs/')) res.writeHead(200).end(layer);
    else res.writeHead(404).end();
  };
}

describe('pull limits', () => {
  it('stops a gzip bomb at the module limit instead of inflating it', async () => {
    // 200 MiB of zeros in a tar, gzipped to about 200 KB.
    const bomb = new Uint8Array(gzipSync(tarOne('plugin.wasm', new Uint8Array(200 << 20)), { level: 9 }));
    expect(bomb.length).toBeLessThan(1 << 20);
    const registry = await serve(imageRegistry(bomb));
    await expect(pull(`${registry}/bomb/x:1`, { maxModuleBytes: 8 << 20 })).rejects.toThrow(/the layer unpacks to more than 9437184 bytes: refusing it/);
  });

  it('refuses a layer larger than the module limit before reading it', async () => {
    const big = new Uint8Array(gzipSync(tarOne('plugin.wasm', randomBytes(64 << 10))));
    const registry = await serve(imageRegistry(big));
    await expect(pull(`${registry}/big/x:1`, { maxModuleBytes: 4096 })).rejects.toThrow(/is \d+ bytes, more than the limit of 4096: refusing it/);
  });

  it('refuses a manifest larger than the manifest limit, without buffering it whole', async () => {
    const registry = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': MEDIA.ociManifest });
      // Unannounced length, streamed: the limit counts the bytes as they come.
      const chunk = Buffer.alloc(1 << 16, 0x20);
      const write = () => { while (res.write(chunk)) { /* keep the pipe full */ } };
      res.on('drain', write);
      write();
    });
    await expect(pull(`${registry}/huge/x:1`, { maxManifestBytes: 1 << 20 })).rejects.toThrow(/the manifest from .* is larger than 1048576 bytes/);
  });

  it('gives up on a registry that trickles bytes, at the overall deadline', async () => {
    const registry = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': MEDIA.ociManifest });
      const timer = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(timer));
    });
    const started = Date.now();
    await expect(pull(`${registry}/slow/x:1`, { timeoutMs: 1_000 })).rejects.toThrow(/took longer than 1 s: giving up/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('gives up on a registry that goes silent, at the idle deadline', async () => {
    const registry = await serve((_req, res) => { res.writeHead(200); res.flushHeaders(); });
    await expect(pull(`${registry}/silent/x:1`, { idleTimeoutMs: 300 })).rejects.toThrow(/sent nothing for 0\.3 s: giving up/);
  });
});

describe('credentials', () => {
  it('are not sent to a token service on another host over plain HTTP', async () => {
    const seen: (string | undefined)[] = [];
    const tokens = await serve((req, res) => { seen.push(req.headers.authorization); res.writeHead(401).end(); }, '127.0.0.2');
    const registry = await serve((_req, res) => res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${tokens}/token",service="x"` }).end());
    await expect(push(Buffer.from('\0asm'), `${registry}/r/x:1`, { username: 'ci', password: 'hunter2' }))
      .rejects.toThrow(/sends logins to http:\/\/127\.0\.0\.2:\d+ over plain HTTP on another host; the credentials were not sent there/);
    expect(seen).toEqual([undefined]);
  });

  it('treats only localhost, 127.0.0.1 and ::1 as local: another 127.x name gets TLS', async () => {
    const seen: string[] = [];
    const registry = await serve((req, res) => { seen.push(req.url!); res.end(); }, '127.0.0.2');
    await expect(pull(`${registry}/r/x:1`)).rejects.toThrow(/cannot reach 127\.0\.0\.2/);
    expect(seen).toEqual([]);
  });

  it('never prints a password written into a reference', () => {
    const wfk = join(ROOT, 'cli', 'bin', 'wfk.mjs');
    const r = spawnSync(process.execPath, [wfk, 'pull', 'ci:hunter2@localhost:5000/r/x:1', '-o', '/tmp/never.wasm'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/a reference cannot carry credentials/);
    expect(r.stdout + r.stderr).not.toContain('hunter2');
  });
});
