// Builds filters/<name>/index.ts into dist/<name>.wasm (release) and dist/<name>.debug.wasm
// (with a source map), stamps producer metadata into each module and runs the module check.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import asc from 'assemblyscript/asc';
import { metadataAdd } from '@bytecodealliance/jco';
import { checkModule, formatReport } from './check.js';

import { DIST_DIR, ROOT, listFilters } from './paths.js';

export { DIST_DIR, FILTERS_DIR, ROOT, listFilters } from './paths.js';

export interface BuildOptions {
  /** Also build the debug module with a source map (default true). */
  debug?: boolean;
  /** Called with one line per step, for progress output. */
  progress?: (line: string) => void;
}

export interface BuiltFilter {
  name: string;
  release: string;
  debug?: string;
  size: number;
}

import { BuildError } from './errors.js';

export { BuildError };

function sourceCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}

/** Compiles one AssemblyScript entry with the kit's asconfig (release or debug with a source map). */
export async function compile(entry: string, outFile: string, target: 'release' | 'debug', baseDir = ROOT): Promise<void> {
  const stderr: string[] = [];
  // asc looks packages up in node_modules above baseDir, so a project compiles from its own folder.
  const args = [entry, '--config', join(ROOT, 'asconfig.json'), '--target', target, '--outFile', outFile, '--baseDir', baseDir];
  if (target === 'debug') args.push('--sourceMap');
  const { error } = await asc.main(args, {
    stdout: { write: () => true } as never,
    stderr: { write: (s: string | Uint8Array) => { stderr.push(String(s)); return true; } } as never,
  });
  if (error) throw new BuildError(`${entry} (${target}) did not compile:\n${stderr.join('')}`);
}

/** Builds the named filters (all when empty); throws BuildError naming the filter and the problem. */
export async function buildFilters(names: string[] = [], options: BuildOptions = {}): Promise<BuiltFilter[]> {
  const all = listFilters();
  const wanted = names.length > 0 ? names : all;
  for (const name of wanted) {
    if (!all.includes(name)) throw new BuildError(`unknown filter "${name}"; filters are: ${all.join(', ')}`);
  }
  mkdirSync(DIST_DIR, { recursive: true });
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
  const commit = sourceCommit();
  const ascVersion = asc.version;
  const progress = options.progress ?? (() => {});
  const built: BuiltFilter[] = [];
  for (const [i, name] of wanted.entries()) {
    progress(`[${i + 1}/${wanted.length}] ${name}: compiling`);
    const entry = join('filters', name, 'index.ts');
    const release = join(DIST_DIR, `${name}.wasm`);
    await compile(entry, release, 'release');
    // The producers section admits only language, processed-by and sdk: the filter's name,
    // version and source commit travel as a processed-by entry "filter:<name>".
    const stamped = await metadataAdd(readFileSync(release), [
      ['language', [['AssemblyScript', ascVersion]]],
      ['processed-by', [[`filter:${name}`, `${version}+${commit}`], ['wasm-filter-kit', version]]],
      ['sdk', [['wasm-filter-kit', version]]],
    ] as never);
    writeFileSync(release, stamped);
    const report = checkModule(stamped);
    if (report.errors.length > 0) throw new BuildError(formatReport(release, report));
    let debug: string | undefined;
    if (options.debug !== false) {
      debug = join(DIST_DIR, `${name}.debug.wasm`);
      await compile(entry, debug, 'debug');
      const debugReport = checkModule(readFileSync(debug));
      if (debugReport.errors.length > 0) throw new BuildError(formatReport(debug, debugReport));
    }
    built.push({ name, release, debug, size: stamped.length });
    progress(`[${i + 1}/${wanted.length}] ${name}: ${stamped.length} bytes, passes the Envoy host check`);
  }
  return built;
}
