// Builds a project's filters/<name>/index.ts into dist/<name>.wasm (release) and
// dist/<name>.debug.wasm (with a source map), stamps producer metadata into the release module
// and runs the module check. Builds are cached by content (build-cache.ts): an unchanged filter
// costs a hash of its sources, and the compiler is loaded only when something must compile.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BuildCache, sha256 } from './build-cache.js';
import { checkModule, formatReport } from './check.js';
import { BuildError, UsageError } from './errors.js';
import { KIT, listFilters, PROJECT, ROOT, type Project } from './paths.js';

export { DIST_DIR, FILTERS_DIR, ROOT, listFilters } from './paths.js';
export { BuildError };

export interface BuildOptions {
  /** Also build the debug module with a source map (default true). */
  debug?: boolean;
  /** Called with one line per step, for progress output. */
  progress?: (line: string) => void;
  /** The project whose filters to build (default: the working directory's). */
  project?: Project;
}

export interface BuiltFilter {
  name: string;
  release: string;
  debug?: string;
  size: number;
  /** Nothing had changed: the modules are the ones built before. */
  cached: boolean;
}

const KIT_VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
const ASCONFIG = join(ROOT, 'asconfig.json');

function sourceCommit(dir: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}

/** The AssemblyScript version the kit compiles with, read without loading the compiler. */
function resolveCompilerVersion(): string {
  return JSON.parse(readFileSync(createRequire(import.meta.url).resolve('assemblyscript/package.json'), 'utf8')).version as string;
}

/**
 * Compiles one AssemblyScript entry with the kit's asconfig (release, or debug with a source
 * map), from `baseDir` so a project finds packages in its own node_modules. Returns every file
 * the compiler read or looked for.
 */
export async function compile(entry: string, outFile: string, target: 'release' | 'debug', baseDir = ROOT): Promise<string[]> {
  const { default: asc } = await import('assemblyscript/asc');
  const stderr: string[] = [];
  const read = new Set<string>();
  const args = [entry, '--config', ASCONFIG, '--target', target, '--outFile', outFile, '--baseDir', baseDir];
  if (target === 'debug') args.push('--sourceMap');
  const { error } = await asc.main(args, {
    stdout: { write: () => true } as never,
    stderr: { write: (s: string | Uint8Array) => { stderr.push(String(s)); return true; } } as never,
    readFile: (filename: string, dir: string) => {
      const path = resolve(dir, filename);
      read.add(path);
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return null;
      }
    },
  });
  if (error) throw new BuildError(`${entry} (${target}) did not compile:\n${stderr.join('').trimEnd()}`);
  return [...read];
}

/** Compiles `entry` to `outFile` unless the cache says nothing it depends on changed; true when cached. */
export async function compileCached(cache: BuildCache, name: string, entry: string, outFile: string, target: 'release' | 'debug', baseDir: string): Promise<boolean> {
  // The asconfig is one of the inputs, hashed with the sources.
  const key = sha256(JSON.stringify([resolveCompilerVersion(), KIT_VERSION, entry, target, baseDir, outFile]));
  if (cache.fresh(name, key)) return true;
  mkdirSync(dirname(outFile), { recursive: true });
  const inputs = await compile(entry, outFile, target, baseDir);
  cache.record(name, key, [...inputs, ASCONFIG], target === 'debug' ? [outFile, `${outFile}.map`] : [outFile]);
  return false;
}

/**
 * The release module as shipped: producer metadata stamped in (the filter's name, the kit's
 * version and the source commit, as a processed-by entry "filter:<name>", since the producers
 * section admits only language, processed-by and sdk), then checked against Envoy's load rules.
 */
async function stampRelease(cache: BuildCache, name: string, raw: string, release: string, project: Project): Promise<boolean> {
  const commit = sourceCommit(project.root);
  const key = sha256(JSON.stringify([KIT_VERSION, commit, name]));
  if (cache.fresh(`${name}.stamped`, key)) return true;
  const { metadataAdd } = await import('@bytecodealliance/jco');
  const stamped = await metadataAdd(readFileSync(raw), [
    ['language', [['AssemblyScript', resolveCompilerVersion()]]],
    ['processed-by', [[`filter:${name}`, `${KIT_VERSION}+${commit}`], ['wasm-filter-kit', KIT_VERSION]]],
    ['sdk', [['wasm-filter-kit', KIT_VERSION]]],
  ] as never);
  const report = checkModule(stamped);
  if (report.errors.length > 0) throw new BuildError(formatReport(release, report));
  writeFileSync(release, stamped);
  cache.record(`${name}.stamped`, key, [raw], [release]);
  return false;
}

/** Builds one filter of `project`; throws BuildError with the compiler's or the check's message. */
export async function buildFilter(name: string, options: BuildOptions = {}): Promise<BuiltFilter> {
  const project = options.project ?? PROJECT;
  const cache = new BuildCache(project.cacheDir);
  const entry = join('filters', name, 'index.ts');
  const raw = join(project.cacheDir, 'raw', `${name}.wasm`);
  const release = join(project.distDir, `${name}.wasm`);
  mkdirSync(project.distDir, { recursive: true });
  const compiled = await compileCached(cache, `${name}.release`, entry, raw, 'release', project.root);
  const stamped = await stampRelease(cache, name, raw, release, project);
  let debug: string | undefined;
  let debugCached = true;
  if (options.debug !== false) {
    debug = join(project.distDir, `${name}.debug.wasm`);
    debugCached = await compileCached(cache, `${name}.debug`, entry, debug, 'debug', project.root);
    const report = checkModule(readFileSync(debug));
    if (report.errors.length > 0) throw new BuildError(formatReport(debug, report));
  }
  return { name, release, debug, size: readFileSync(release).length, cached: compiled && stamped && debugCached };
}

export interface BuildOutcome { built: BuiltFilter[]; failed: { name: string; error: BuildError }[] }

/**
 * Builds the named filters (all when empty). A filter that fails does not stop the others:
 * each failure comes back with the compiler's message.
 */
export async function buildFilters(names: string[] = [], options: BuildOptions = {}): Promise<BuildOutcome> {
  const project = options.project ?? PROJECT;
  const all = listFilters(project);
  const wanted = names.length > 0 ? names : all;
  const unknown = wanted.filter((n) => !all.includes(n));
  if (unknown.length > 0) {
    throw new UsageError(`unknown filter${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')} in ${project.filtersDir}; filters are: ${all.join(', ') || 'none (a filter is filters/<name>/index.ts)'}`);
  }
  const progress = options.progress ?? (() => {});
  const outcome: BuildOutcome = { built: [], failed: [] };
  for (const [i, name] of wanted.entries()) {
    const step = `[${i + 1}/${wanted.length}] ${name}`;
    try {
      const built = await buildFilter(name, { ...options, project });
      outcome.built.push(built);
      progress(`${step}: ${built.size} bytes${built.cached ? ' (unchanged)' : ''}, passes the Envoy host check`);
    } catch (e) {
      if (!(e instanceof BuildError)) throw e;
      outcome.failed.push({ name, error: e });
      progress(`${step}: FAILED`);
    }
  }
  return outcome;
}

/** The kit's own filters, built (for the demo and the kit's tests). */
export function buildKitFilters(names: string[], options: Omit<BuildOptions, 'project'> = {}): Promise<BuildOutcome> {
  return buildFilters(names, { ...options, project: KIT });
}
