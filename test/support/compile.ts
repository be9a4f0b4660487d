// Builds the modules tests and benchmarks run: fixtures against our SDK, filters written for
// @solo-io/proxy-runtime compiled with the real package and AssemblyScript 0.14, and modules
// built with the Go and Rust SDKs.
// Each is cached by content like a filter (cli/build-cache.ts), so an unchanged run compiles nothing.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
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
 * Builds a Go SDK module (a folder with go.mod) with Go's own wasip1 target into
 * test/.build/<name>.wasm. Needs Go 1.24 or newer.
 */
export async function buildGoModule(dir: string, name: string): Promise<string> {
  mkdirSync(BUILD_DIR, { recursive: true });
  const out = join(BUILD_DIR, `${name}.wasm`);
  const where = relative(ROOT, dir);
  try {
    const { stdout: version } = await run('go', ['version']);
    const key = sha256(version);
    if (cache.fresh(name, key)) return out;
    await run('go', ['build', '-buildmode=c-shared', '-o', out, '.'], { cwd: dir, env: { ...process.env, GOOS: 'wasip1', GOARCH: 'wasm' } });
    cache.record(name, key, filesBelow(dir), [out]);
  } catch (error) {
    const e = error as { code?: string; stderr?: string; message: string };
    if (e.code === 'ENOENT') throw new Error(`building ${where} needs Go 1.24 or newer on PATH (https://go.dev/dl)`);
    throw new Error(`go build of ${where} failed: ${e.stderr ?? e.message}`);
  }
  return out;
}

/** The Go SDK fixture the differential scenarios run: a module our SDK did not build. */
export const buildGoFixture = (): Promise<string> => buildGoModule(join(ROOT, 'test', 'fixtures', 'go-filter'), 'go-filter');

/** A Rust compiler whose standard library includes wasm32-unknown-unknown, and its cargo. */
async function wasmRustToolchain(): Promise<{ rustc: string; cargo: string } | undefined> {
  for (const [rustc, cargo] of [['rustc', 'cargo'], ['/usr/bin/rustc', '/usr/bin/cargo']]) {
    try {
      const { stdout } = await run(rustc, ['--print', 'sysroot']);
      if (existsSync(join(stdout.trim(), 'lib', 'rustlib', 'wasm32-unknown-unknown'))) return { rustc, cargo };
    } catch {
      // not installed: try the next one
    }
  }
  return undefined;
}

/**
 * Builds a Rust SDK module (a cdylib crate with Cargo.lock) for wasm32-unknown-unknown into
 * test/.build/<name>.wasm. rustup's toolchain builds it when it has the wasm32 target; else
 * Debian's rustc does (apt-get install rustc cargo libstd-rust-dev-wasm32). That cargo is too
 * old for crates.io's sparse index, so the crates are first vendored by the cargo on PATH.
 */
export async function buildRustModule(dir: string, name: string): Promise<string> {
  mkdirSync(BUILD_DIR, { recursive: true });
  const out = join(BUILD_DIR, `${name}.wasm`);
  const where = relative(ROOT, dir);
  const toolchain = await wasmRustToolchain();
  if (!toolchain) {
    throw new Error(`building ${where} needs Rust with the wasm32-unknown-unknown target: rustup target add wasm32-unknown-unknown, ` +
      'or apt-get install rustc cargo libstd-rust-dev-wasm32');
  }
  const { stdout: version } = await run(toolchain.rustc, ['--version']);
  const key = sha256(version);
  if (cache.fresh(name, key)) return out;
  const work = join(KIT.cacheDir, 'rust', name);
  const env: NodeJS.ProcessEnv = { ...process.env, CARGO_TARGET_DIR: join(work, 'target'), RUSTC: toolchain.rustc };
  try {
    if (toolchain.cargo !== 'cargo') {
      await run('cargo', ['vendor', '--locked', '--versioned-dirs', join(work, 'vendor')], { cwd: dir });
      mkdirSync(join(work, 'home'), { recursive: true });
      writeFileSync(join(work, 'home', 'config.toml'),
        `[source.crates-io]\nreplace-with = "vendored"\n[source.vendored]\ndirectory = "${join(work, 'vendor')}"\n`);
      env.CARGO_HOME = join(work, 'home');
    }
    const offline = env.CARGO_HOME ? ['--offline'] : [];
    await run(toolchain.cargo, ['build', ...offline, '--locked', '--release', '--target', 'wasm32-unknown-unknown'], { cwd: dir, env });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`cargo build of ${where} failed: ${e.stderr ?? e.message}`);
  }
  const crate = /name\s*=\s*"([^"]+)"/.exec(readFileSync(join(dir, 'Cargo.toml'), 'utf8'))![1].replace(/-/g, '_');
  copyFileSync(join(work, 'target', 'wasm32-unknown-unknown', 'release', `${crate}.wasm`), out);
  cache.record(name, key, filesBelow(dir).filter((f) => !f.includes(`${sep}target${sep}`)), [out]);
  return out;
}
