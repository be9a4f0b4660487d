// Filters written for @solo-io/proxy-runtime 0.1.8: built unchanged with that package and
// AssemblyScript 0.14.9, and built with our SDK after changing only their import specifiers.
// Both builds run in host-sim and must behave alike.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkModule } from '../cli/check.js';
import { ROOT } from '../cli/build.js';
import { Host } from '../host-sim/index.js';
import { BUILD_DIR, buildPortable } from './support/compile.js';
import { portableModule } from './support/modules.js';
import { closeAfterTest } from './support/hosts.js';


const SDKS = ['proxy-runtime', 'wasm-filter-kit'] as const;
const built = (name: string, sdk: 'proxy-runtime' | 'wasm-filter-kit') => portableModule(name, sdk);

describe('porting from @solo-io/proxy-runtime', () => {
  it('the README hello world differs from its port only in import specifiers', () => {
    const original = readFileSync(join(ROOT, 'test', 'fixtures', 'proxy-runtime', 'hello-world.ts'), 'utf8');
    const ported = readFileSync(join(BUILD_DIR, 'hello-world-wasm-filter-kit', 'index.ts'), 'utf8');
    const originalLines = original.split('\n');
    const portedLines = ported.split('\n');
    expect(portedLines).toHaveLength(originalLines.length);
    const changed = originalLines.map((line, i) => [line, portedLines[i]]).filter(([a, b]) => a !== b);
    expect(changed).toHaveLength(2);
    for (const [before, after] of changed) {
      expect(before.replace('@solo-io/proxy-runtime', 'wasm-filter-kit/assembly')).toBe(after);
    }
  });

  it('exports every name @solo-io/proxy-runtime 0.1.8 exports', async () => {
    const index = readFileSync(join(ROOT, 'node_modules', 'proxy-runtime-0.1.8', 'assembly', 'index.ts'), 'utf8');
    const names = [...index.matchAll(/export\s*{([^}]*)}/g)].flatMap((m) => m[1].split(',').map((n) => n.trim())).filter(Boolean);
    expect(names).toContain('stream_context');
    // Importing a name a module does not export is a compile error in AssemblyScript.
    const source = join(BUILD_DIR, 'all-names.ts');
    writeFileSync(source, `export * from "@solo-io/proxy-runtime/proxy";\nimport { ${names.join(', ')} } from "@solo-io/proxy-runtime";\n`);
    await expect(buildPortable(source, 'all-names', 'wasm-filter-kit')).resolves.toMatch(/all-names\.wasm-filter-kit\.wasm$/);
  });

  it('our build of the hello world is smaller and uses ABI 0.2.1', () => {
    const ours = readFileSync(built('hello-world', 'wasm-filter-kit'));
    const theirs = readFileSync(built('hello-world', 'proxy-runtime'));
    expect(ours.length).toBeLessThan(theirs.length);
    expect(checkModule(ours).abi).toBe('0.2.1');
    expect(checkModule(ours).errors).toEqual([]);
    expect(checkModule(theirs).abi).toBe('0.2.0');
    // Envoy loads it (test/envoy/scenarios/other-sdks): its start section only reaches the host.
    expect(checkModule(theirs).errors).toEqual([]);
  });

  it('the real proxy-runtime build traps on an empty plugin configuration (its known defect); ours does not', () => {
    const host = new Host();
    closeAfterTest(host);
    expect(() => host.addPlugin({ module: built('hello-world', 'proxy-runtime'), rootId: 'add_header', configuration: '' }))
      .toThrow(/Unable to create Wasm plugin add_header: proxy_on_configure trapped/);
    expect(() => host.addPlugin({ module: built('hello-world', 'wasm-filter-kit'), rootId: 'add_header', configuration: '' })).not.toThrow();
  });

  for (const sdk of SDKS) {
    describe(`built with ${sdk}`, () => {
      it('hello world adds "hello: world!" to responses', async () => {
        const host = new Host();
        closeAfterTest(host);
        // A configuration of one space: proxy-runtime's build cannot take an empty one (above).
        host.addPlugin({ module: built('hello-world', sdk), rootId: 'add_header', configuration: sdk === 'proxy-runtime' ? ' ' : '' });
        const r = await host.request();
        expect(r.headers).toContainEqual(['hello', sdk === 'proxy-runtime' ? ' ' : 'world!']);
      });

      it('hello world echoes its configuration', async () => {
        const host = new Host();
        closeAfterTest(host);
        host.addPlugin({ module: built('hello-world', sdk), rootId: 'add_header', configuration: 'configured' });
        const r = await host.request();
        expect(r.headers).toContainEqual(['hello', 'configured']);
      });

      it('auth continues a request the auth cluster allows', async () => {
        const host = new Host({ clusters: { backend: () => ({ status: 200, body: 'secret' }), auth: (req) => ({ status: req.headers.some(([k]) => k === 'authorization') ? 200 : 403 }) } });
        closeAfterTest(host);
        host.addPlugin({ module: built('auth', sdk), rootId: 'auth', configuration: 'auth' });
        const r = await host.request({ headers: { authorization: 'Bearer x' } });
        expect(r.status).toBe(200);
        expect(r.body).toBe('secret');
        expect(r.upstream!.headers).toContainEqual(['added-header', 'authorized']);
        expect(r.headers).toContainEqual(['hello', 'wasm!']);
        // The auth cluster saw the caller's headers.
        expect(host.callouts[0].headers).toContainEqual(['authorization', 'Bearer x']);
      });

      it('auth answers 401 when the auth cluster refuses', async () => {
        const host = new Host({ clusters: { backend: () => ({ status: 200 }), auth: () => ({ status: 403 }) } });
        closeAfterTest(host);
        host.addPlugin({ module: built('auth', sdk), rootId: 'auth', configuration: 'auth' });
        const r = await host.request({ method: 'POST', body: 'payload' });
        expect(r.status).toBe(401);
        expect(r.localReply?.details).toBe('not_authorized');   // Envoy replaces spaces in details
        expect(r.upstream).toBeUndefined();
      });

      it('auth answers 500 when the auth cluster does not exist', async () => {
        const host = new Host({ clusters: { backend: () => ({ status: 200 }) } });
        closeAfterTest(host);
        host.addPlugin({ module: built('auth', sdk), rootId: 'auth', configuration: 'missing-cluster' });
        const r = await host.request();
        expect(r.status).toBe(500);
      });
    });
  }
});
