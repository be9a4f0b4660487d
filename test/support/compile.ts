// Builds the modules tests and benchmarks run: fixtures against our SDK, and filters written
// for @solo-io/proxy-runtime compiled with the real package and AssemblyScript 0.14.
// Each is cached by content like a filter (cli/build-cache.ts), so an unchanged run compiles nothing.
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { compileCached, ROOT } from '../../cli/build.js';
import { BuildCache, sha256 } from '../../cli/build-cache.js';
import { KIT } from '../../cli/paths.js';

const run = promisify(execFile);
export const BUILD_DIR = join(ROOT, 'test', '.build');
const cache = new BuildCache(join(KIT.cacheDir, 'test'));

/** Every file below `dir`, for builds whose inputs are a folder. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name));
}

/** Compiles a fixture against our SDK (release, or debug with a source map). */
export async function buildFixture(entry: string, name: string, target: 'release' | 'debug' = 'release'): Promise<string> {
  mkdirSync(BUILD_DIR, { recursive: true });
  const out = join(BUILD_DIR, target === 'release' ? `${name}.wasm` : `${name}.debug.wasm`);
  await compileCached(cache, `${name}.${target}`, entry, out, target, ROOT);
  return out;
}

function link(target: string, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path)) rmSync(path, { recursive: true, force: true });
  symlinkSync(target, path);
}

/**
 * Compiles `source` (a filter written for @solo-io/proxy-runtime) in a project of its own:
 * with `sdk: "proxy-runtime"` against the real package 0.1.8 and AssemblyScript 0.14.9, with
 * `sdk: "wasm-filter-kit"` against ours after replacing only the import specifiers.
 */
export async function buildPortable(source: string, name: string, sdk: 'proxy-runtime' | 'wasm-filter-kit'): Promise<string> {
  const project = join(BUILD_DIR, `${name}-${sdk}`);
  mkdirSync(project, { recursive: true });
  const out = join(BUILD_DIR, `${name}.${sdk}.wasm`);
  let text = readFileSync(source, 'utf8');
  if (sdk === 'proxy-runtime') {
    link(join(ROOT, 'node_modules', 'proxy-runtime-0.1.8'), join(project, 'node_modules', '@solo-io', 'proxy-runtime'));
    writeFileSync(join(project, 'index.ts'), text);
    const key = sha256(JSON.stringify(['asc 0.14', readFileSync(join(ROOT, 'node_modules', 'assemblyscript-0.14', 'package.json'), 'utf8'), text]));
    if (!cache.fresh(`${name}.proxy-runtime`, key)) {
      await run(process.execPath, [join(ROOT, 'node_modules', 'assemblyscript-0.14', 'bin', 'asc'), 'index.ts', '-b', out,
        '--use', 'abort=abort_proc_exit', '-O3'], { cwd: project });
      cache.record(`${name}.proxy-runtime`, key, [join(project, 'index.ts')], [out]);
    }
  } else {
    text = text.replace(/(["'])@solo-io\/proxy-runtime\/proxy\1/g, '$1wasm-filter-kit/assembly/proxy$1')
      .replace(/(["'])@solo-io\/proxy-runtime\1/g, '$1wasm-filter-kit/assembly$1');
    link(ROOT, join(project, 'node_modules', 'wasm-filter-kit'));
    writeFileSync(join(project, 'index.ts'), text);
    await compileCached(cache, `${name}.wasm-filter-kit`, 'index.ts', out, 'release', project);
  }
  return out;
}

/**
 * Builds the Go SDK fixture (test/fixtures/go-filter) with Go's own wasip1 target, so the
 * differential scenarios run a module our SDK did not build. Needs Go 1.24 or newer.
 */
export async function buildGoFixture(): Promise<string> {
  mkdirSync(BUILD_DIR, { recursive: true });
  const out = join(BUILD_DIR, 'go-filter.wasm');
  const dir = join(ROOT, 'test', 'fixtures', 'go-filter');
  try {
    const { stdout: version } = await run('go', ['version']);
    const key = sha256(version);
    if (cache.fresh('go-filter', key)) return out;
    await run('go', ['build', '-buildmode=c-shared', '-o', out, '.'], { cwd: dir, env: { ...process.env, GOOS: 'wasip1', GOARCH: 'wasm' } });
    cache.record('go-filter', key, filesBelow(dir), [out]);
  } catch (error) {
    const e = error as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error('building test/fixtures/go-filter needs Go 1.24 or newer on PATH (https://go.dev/dl)');
    throw new Error(`go build of test/fixtures/go-filter failed: ${e.stderr ?? e.message}`);
  }
  return out;
}
