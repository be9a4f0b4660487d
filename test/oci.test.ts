// OCI publishing against a real registry (Debian's docker-registry) on loopback: without auth,
// with htpasswd basic auth, and with TLS; every layout Wasm runtimes pull; bad input.
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { readFileSync, statSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST_DIR, ROOT } from '../cli/build.js';
import { MEDIA, compatImage, sha256, tarOne } from '../cli/oci/layout.js';
import { RegistryClient } from '../cli/oci/registry.js';
import { pull, push, putManifest, uploadBlob } from '../cli/oci/transfer.js';
import { istioWasmPlugin } from '../cli/envoy-config.js';
import { loadDeployment } from '../cli/deployment.js';
import { hasRegistry, startRegistry, type TestRegistry } from './support/registry.js';

const module = () => readFileSync(join(DIST_DIR, 'add-header.wasm'));
const wfk = join(ROOT, 'cli', 'bin', 'wfk.mjs');

describe('OCI publishing', () => {
  let open: TestRegistry;
  let basic: TestRegistry;
  let tls: TestRegistry;
  let bearer: TestRegistry;

  beforeAll(async () => {
    if (!hasRegistry()) throw new Error('the OCI tests need a real registry: apt-get install docker-registry apache2-utils');
    [open, basic, tls, bearer] = await Promise.all([startRegistry(), startRegistry({ user: 'ci', password: 's3cret' }), startRegistry({ tls: true }),
      startRegistry({ user: 'robot', password: 't0ken-pass', bearer: true })]);
  });
  afterAll(async () => { await Promise.all([open?.stop(), basic?.stop(), tls?.stop(), bearer?.stop()]); });

  describe('push and pull', () => {
    it('pushes the compat image Istio pulls and pulls the same bytes back', async () => {
      const pushed = await push(module(), `${open.address}/filters/add-header:1.0`);
      expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(pushed.url).toBe(`oci://${open.address}/filters/add-header@${pushed.digest}`);
      // Istio compares a WasmPlugin's sha256 with the manifest digest; envoy-config --istio predicts it.
      expect(pushed.sha256).toBe(pushed.digest.slice(7));
      const plugin = istioWasmPlugin({ filter: 'add-header', configuration: {}, deployment: await loadDeployment('add-header'), image: `${open.address}/filters/add-header:1.0`, module: module() });
      expect((plugin.spec as { sha256: string }).sha256).toBe(pushed.sha256);
      const pulled = await pull(`${open.address}/filters/add-header:1.0`);
      expect(Buffer.from(pulled.module).equals(module())).toBe(true);
      expect(pulled.digest).toBe(pushed.digest);
      const byDigest = await pull(`${open.address}/filters/add-header@${pushed.digest}`);
      expect(Buffer.from(byDigest.module).equals(module())).toBe(true);
    });

    it('writes the layout Istio expects: one tar+gzip layer with plugin.wasm, the compat annotation, diff_ids of the tar', () => {
      const image = compatImage(module());
      expect(image.manifest.annotations).toEqual({ 'module.wasm.image/variant': 'compat' });
      expect(image.manifest.layers).toHaveLength(1);
      expect(image.manifest.layers[0].mediaType).toBe(MEDIA.ociLayerTarGzip);
      const config = JSON.parse(new TextDecoder().decode(image.config));
      expect(config.rootfs.diff_ids).toEqual([sha256(tarOne('plugin.wasm', module()))]);
    });

    it('gives the same digest when the same module is pushed twice, and skips blobs the registry has', async () => {
      const lines: string[] = [];
      const first = await push(module(), `${open.address}/filters/twice:a`);
      const second = await push(module(), `${open.address}/filters/twice:b`, { progress: (l) => lines.push(l) });
      expect(second.digest).toBe(first.digest);
      expect(lines.filter((l) => l.includes('already in'))).toHaveLength(2);
    });

    it('mounts blobs from another repository instead of uploading them', async () => {
      await push(module(), `${open.address}/filters/source:1`);
      const lines: string[] = [];
      await push(module(), `${open.address}/filters/mounted:1`, { mountFrom: 'filters/source', progress: (l) => lines.push(l) });
      expect(lines.filter((l) => l.includes('mounted from filters/source'))).toHaveLength(2);
    });

    it('says clearly when a tag does not exist', async () => {
      await expect(pull(`${open.address}/filters/add-header:nope`)).rejects.toThrow(`${open.address}/filters/add-header:nope not found (is the tag pushed?)`);
    });

    it('refuses a corrupted blob', async () => {
      // Its own content: registries share blobs across repositories, and this one gets damaged.
      const own = Buffer.concat([module(), Buffer.from('corrupt-test')]);
      const pushed = await push(own, `${open.address}/filters/corrupt:1`);
      const layer = compatImage(own).manifest.layers[0].digest.slice(7);
      const data = join(open.storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', layer.slice(0, 2), layer, 'data');
      const bytes = readFileSync(data);
      bytes[bytes.length - 20] ^= 0xff;
      writeFileSync(data, bytes);
      await expect(pull(`${open.address}/filters/corrupt@${pushed.digest}`)).rejects.toThrow(/refusing a corrupted blob/);
    });
  });

  describe('other layouts', () => {
    async function pushLayout(repository: string, layers: { mediaType: string; data: Uint8Array }[], configMediaType: string, manifestMediaType: string,
      configText = '{}') {
      const client = new RegistryClient(open.address);
      const config = new TextEncoder().encode(configText);
      for (const l of layers) await uploadBlob(client, repository, l.data, {});
      await uploadBlob(client, repository, config, {});
      const manifest = {
        schemaVersion: 2, mediaType: manifestMediaType,
        config: { mediaType: configMediaType, digest: sha256(config), size: config.length },
        layers: layers.map((l) => ({ mediaType: l.mediaType, digest: sha256(l.data), size: l.data.length })),
      };
      return putManifest(client, repository, 'v1', new TextEncoder().encode(JSON.stringify(manifest)), manifestMediaType);
    }

    it('pulls the two-layer OCI variant with a raw wasm content layer', async () => {
      await pushLayout('layouts/two-layer', [{ mediaType: MEDIA.wasmContentLayer, data: module() }], MEDIA.wasmConfig, MEDIA.ociManifest);
      expect(Buffer.from((await pull(`${open.address}/layouts/two-layer:v1`)).module).equals(module())).toBe(true);
    });

    it('refuses a layer whose unpacked tar is not the diff_id its image config names', async () => {
      const layer = new Uint8Array(gzipSync(tarOne('plugin.wasm', module())));
      const config = JSON.stringify({ rootfs: { type: 'layers', diff_ids: [sha256(tarOne('other.wasm', module()))] } });
      await pushLayout('layouts/bad-diff-id', [{ mediaType: MEDIA.ociLayerTarGzip, data: layer }], MEDIA.ociConfig, MEDIA.ociManifest, config);
      await expect(pull(`${open.address}/layouts/bad-diff-id:v1`)).rejects.toThrow(/unpacks to sha256:[0-9a-f]{64}, but the image config's diff_id is/);
    });

    it('pulls the CNCF Wasm artifact', async () => {
      await pushLayout('layouts/cncf', [{ mediaType: MEDIA.cncfWasmLayer, data: module() }], MEDIA.cncfWasmConfig, MEDIA.ociManifest);
      expect(Buffer.from((await pull(`${open.address}/layouts/cncf:v1`)).module).equals(module())).toBe(true);
    });

    it('pulls the Docker schema2 variant', async () => {
      const layer = new Uint8Array(gzipSync(tarOne('plugin.wasm', module())));
      await pushLayout('layouts/docker', [{ mediaType: MEDIA.dockerLayerTarGzip, data: layer }], MEDIA.dockerConfig, MEDIA.dockerManifest);
      expect(Buffer.from((await pull(`${open.address}/layouts/docker:v1`)).module).equals(module())).toBe(true);
    });
  });

  describe('authentication and TLS', () => {
    it('pushes and pulls with basic auth from flags', async () => {
      const credentials = { username: 'ci', password: 's3cret' };
      await push(module(), `${basic.address}/private/add-header:1`, credentials);
      expect((await pull(`${basic.address}/private/add-header:1`, credentials)).module.length).toBe(module().length);
    });

    it('answers a bearer-token challenge through the token service, as Docker Hub and GHCR ask', async () => {
      const credentials = { username: 'robot', password: 't0ken-pass' };
      const pushed = await push(module(), `${bearer.address}/team/add-header:1`, credentials);
      expect(Buffer.from((await pull(`${bearer.address}/team/add-header@${pushed.digest}`, credentials)).module).equals(module())).toBe(true);
      await expect(pull(`${bearer.address}/team/add-header:1`, { username: 'robot', password: 'nope' })).rejects.toThrow(/refused the credentials/);
    });

    it('reads credentials from ~/.docker/config.json auths', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'docker-config-'));
      const config = join(dir, 'config.json');
      writeFileSync(config, JSON.stringify({ auths: { [basic.address]: { auth: Buffer.from('ci:s3cret').toString('base64') } } }));
      const pushed = await push(module(), `${basic.address}/private/from-config:1`, { dockerConfig: config });
      expect(pushed.digest).toMatch(/^sha256:/);
    });

    it('asks a Docker credential helper named by credHelpers, before stale auths as Docker does', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cred-helper-'));
      const helper = join(dir, 'docker-credential-wfktest');
      writeFileSync(helper, '#!/bin/sh\nread registry\nprintf \'{"ServerURL":"%s","Username":"ci","Secret":"s3cret"}\' "$registry"\n', { mode: 0o755 });
      const config = join(dir, 'config.json');
      const stale = { [basic.address]: { auth: Buffer.from('ci:old-password').toString('base64') } };
      writeFileSync(config, JSON.stringify({ credHelpers: { [basic.address]: 'wfktest' }, auths: stale }));
      const path = process.env.PATH;
      process.env.PATH = `${dir}:${path}`;
      try {
        expect((await push(module(), `${basic.address}/private/helper:1`, { dockerConfig: config })).digest).toMatch(/^sha256:/);
      } finally {
        process.env.PATH = path;
      }
    });

    it('follows a blob redirect to another origin without sending it the registry credentials', async () => {
      const credentials = { username: 'ci', password: 's3cret' };
      const pushed = await push(module(), `${basic.address}/private/redirected:1`, credentials);
      const layer = compatImage(module()).layer;
      // A storage service elsewhere, and a front door that answers blob reads with a redirect to it, as S3-backed registries do.
      const storageSaw: (string | undefined)[] = [];
      const storage = http.createServer((req, res) => { storageSaw.push(req.headers.authorization); res.end(layer); });
      const front = http.createServer((req, res) => {
        if (req.method === 'GET' && /\/blobs\/sha256:/.test(req.url!) && req.url!.includes(compatImage(module()).manifest.layers[0].digest)) {
          res.writeHead(307, { location: `http://127.0.0.1:${(storage.address() as { port: number }).port}/bucket/layer` }).end();
          return;
        }
        const upstream = http.request({ host: '127.0.0.1', port: Number(basic.address.split(':')[1]), path: req.url, method: req.method, headers: req.headers },
          (answer) => { res.writeHead(answer.statusCode!, answer.headers); answer.pipe(res); });
        req.pipe(upstream);
      });
      await Promise.all([storage, front].map((server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))));
      try {
        const frontAddress = `127.0.0.1:${(front.address() as { port: number }).port}`;
        const pulled = await pull(`${frontAddress}/private/redirected@${pushed.digest}`, credentials);
        expect(Buffer.from(pulled.module).equals(module())).toBe(true);
        expect(storageSaw).toEqual([undefined]);
      } finally {
        await Promise.all([storage, front].map((server) => new Promise((resolve) => server.close(resolve))));
      }
    });

    it('refuses a wrong password and asks for credentials when there are none, printing no secret', async () => {
      await expect(push(module(), `${basic.address}/private/x:1`, { username: 'ci', password: 'wrong-password-123' }))
        .rejects.toThrow(`${basic.address} refused the credentials from the command line (wrong username or password?)`);
      await expect(push(module(), `${basic.address}/private/x:1`, { dockerConfig: '/nonexistent' }))
        .rejects.toThrow(/needs credentials: pass --username with --password-stdin, set WFK_REGISTRY_USERNAME\/PASSWORD, or docker login/);
      const cli = spawnSync(process.execPath, [wfk, 'push', join(DIST_DIR, 'add-header.wasm'), `${basic.address}/private/x:1`, '--username', 'ci', '--password-stdin'],
        { input: 'wrong-password-123\n', encoding: 'utf8' });
      expect(cli.status).toBe(1);
      expect(cli.stderr).toContain('refused the credentials');
      expect(cli.stderr + cli.stdout).not.toContain('wrong-password-123');
    });

    it('reads config.json from the folder DOCKER_CONFIG names, as Docker does', () => {
      const dir = mkdtempSync(join(tmpdir(), 'docker-config-env-'));
      writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [basic.address]: { auth: Buffer.from('ci:s3cret').toString('base64') } } }));
      const cli = spawnSync(process.execPath, [wfk, 'push', join(DIST_DIR, 'add-header.wasm'), `${basic.address}/private/from-env:1`],
        { encoding: 'utf8', env: { ...process.env, DOCKER_CONFIG: dir } });
      expect(cli.status, cli.stderr).toBe(0);
    });

    it('refuses a password on standard input without a user name, instead of dropping it', () => {
      const cli = spawnSync(process.execPath, [wfk, 'push', join(DIST_DIR, 'add-header.wasm'), `${basic.address}/private/x:1`, '--password-stdin'],
        { input: 's3cret\n', encoding: 'utf8', env: { ...process.env, WFK_REGISTRY_USERNAME: '' } });
      expect(cli.status).toBe(2);
      expect(cli.stderr).toMatch(/--password-stdin needs --username/);
    });

    it('says a registry speaks HTTPS when plain HTTP reaches it, and what to pass', () => {
      const cli = spawnSync(process.execPath, [wfk, 'pull', `${tls.address}/secure/add-header:1`, '-o', join(tmpdir(), 'never.wasm')], { encoding: 'utf8' });
      expect(cli.status).toBe(1);
      expect(cli.stderr).toMatch(/does not answer plain HTTP: it speaks HTTPS; pass the CA that signed its certificate with --ca-file/);
      expect(cli.stderr).not.toMatch(/HPE_|ECONNRESET/);
    });

    it('talks TLS with the registry\'s CA, and explains a certificate it cannot verify', async () => {
      const pushed = await push(module(), `${tls.address}/secure/add-header:1`, { caFile: tls.caFile });
      expect((await pull(`${tls.address}/secure/add-header@${pushed.digest}`, { caFile: tls.caFile })).module.length).toBe(module().length);
      // 127.0.0.1 would use plain HTTP; a TLS registry elsewhere without its CA fails clearly.
      await expect(push(module(), `localhost:${tls.address.split(':')[1]}/secure/x:1`, { caFile: join(ROOT, 'package.json') }))
        .rejects.toThrow(/cannot reach localhost/);
    });
  });

  describe('wfk push and pull', () => {
    it('prints the digest and the WasmPlugin url and sha256, and pulls to a file', () => {
      const pushed = spawnSync(process.execPath, [wfk, 'push', join(DIST_DIR, 'add-header.wasm'), `${open.address}/cli/add-header:1`], { encoding: 'utf8' });
      expect(pushed.stderr + pushed.stdout).not.toContain('wfk:');
      expect(pushed.status).toBe(0);
      expect(pushed.stdout).toMatch(/^digest: sha256:[0-9a-f]{64}\nWasmPlugin url: oci:\/\/127\.0\.0\.1:\d+\/cli\/add-header@sha256:[0-9a-f]{64}\nWasmPlugin sha256: [0-9a-f]{64}\n$/);
      expect(pushed.stderr).toMatch(/bytes uploaded/);
      const out = join(mkdtempSync(join(tmpdir(), 'pulled-')), 'm.wasm');
      const pulled = spawnSync(process.execPath, [wfk, 'pull', `${open.address}/cli/add-header:1`, '-o', out], { encoding: 'utf8' });
      expect(pulled.status).toBe(0);
      expect(statSync(out).size).toBe(module().length);
      const missing = spawnSync(process.execPath, [wfk, 'pull', `${open.address}/cli/add-header:2`, '-o', out], { encoding: 'utf8' });
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain('not found (is the tag pushed?)');
      const badRef = spawnSync(process.execPath, [wfk, 'pull', 'no-registry', '-o', out], { encoding: 'utf8' });
      expect(badRef.status).toBe(2);
      expect(badRef.stderr).toContain('is not a reference');
    });

    it('pulls to standard output with -o -, and prints JSON with --json', () => {
      const pulled = spawnSync(process.execPath, [wfk, 'pull', `${open.address}/cli/add-header:1`, '-o', '-', '--json'], { encoding: 'buffer' });
      expect(pulled.status).toBe(0);
      expect(Buffer.compare(pulled.stdout, module())).toBe(0);
      expect(JSON.parse(pulled.stderr.toString().slice(pulled.stderr.toString().indexOf('{')))).toMatchObject({ output: '-', bytes: module().length });
      const pushed = spawnSync(process.execPath, [wfk, 'push', join(DIST_DIR, 'add-header.wasm'), `${open.address}/cli/json:1`, '--json'], { encoding: 'utf8' });
      expect(JSON.parse(pushed.stdout)).toMatchObject({ digest: expect.stringMatching(/^sha256:/), url: expect.stringMatching(/^oci:\/\//) });
    });

    it('refuses to push a module Envoy would refuse, with the check\'s report, unless --force', () => {
      const dir = mkdtempSync(join(tmpdir(), 'bad-module-'));
      const cases: [string, Uint8Array][] = [
        ['random.wasm', new Uint8Array(Array.from({ length: 512 }, (_, i) => (i * 37 + 11) & 0xff))],
        ['truncated.wasm', module().subarray(0, 1000)],
        ['no-abi.wasm', new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])],
      ];
      for (const [name, bytes] of cases) {
        writeFileSync(join(dir, name), bytes);
        const cli = spawnSync(process.execPath, [wfk, 'push', join(dir, name), `${open.address}/bad/${name.replace('.wasm', '')}:1`], { encoding: 'utf8' });
        expect(cli.status, name).toBe(1);
        expect(cli.stderr, name).toMatch(/FAILED: Envoy would refuse this module/);
        expect(cli.stderr, name).toMatch(/not pushed: .*--force/);
        expect(cli.stdout, name).not.toMatch(/WasmPlugin sha256/);
      }
      const forced = spawnSync(process.execPath, [wfk, 'push', join(dir, 'no-abi.wasm'), `${open.address}/bad/forced:1`, '--force'], { encoding: 'utf8' });
      expect(forced.status).toBe(0);
      expect(forced.stdout).toMatch(/WasmPlugin sha256/);
    });
  });
});
