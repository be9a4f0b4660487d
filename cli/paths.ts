// Where things live: the kit (its SDK, compiler configuration and ready filters) and the project
// wfk works on (the nearest folder above the working directory with a package.json: a filter
// project made by `wfk init`, or the kit itself). Kept apart from the build so commands that
// only need paths start fast.
import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findUp(from: string, found: (dir: string) => boolean): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (found(dir)) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/** The kit's own folder: its sources, or its package when installed (the code may run from lib/). */
export const ROOT = findUp(dirname(fileURLToPath(import.meta.url)), (dir) => existsSync(join(dir, 'asconfig.json')) && existsSync(join(dir, 'assembly', 'index.ts')))!;

export interface Project {
  root: string;
  /** filters/<name>/index.ts are its filters. */
  filtersDir: string;
  /** Where `wfk build` writes <name>.wasm and <name>.debug.wasm. */
  distDir: string;
  /** The build cache (node_modules/.cache, where tools keep theirs). */
  cacheDir: string;
}

export function projectAt(root: string): Project {
  return { root, filtersDir: join(root, 'filters'), distDir: join(root, 'dist'), cacheDir: join(root, 'node_modules', '.cache', 'wasm-filter-kit') };
}

/** The kit as a project: its ready filters. */
export const KIT = projectAt(ROOT);

/** The project of the working directory. */
export const PROJECT = projectAt(findUp(process.cwd(), (dir) => existsSync(join(dir, 'package.json'))) ?? process.cwd());

export const FILTERS_DIR = PROJECT.filtersDir;
export const DIST_DIR = PROJECT.distDir;

/** A project's filters: the folders of filters/ with an index.ts. */
export function listFilters(project: Project = PROJECT): string[] {
  if (!existsSync(project.filtersDir)) return [];
  return readdirSync(project.filtersDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(project.filtersDir, d.name, 'index.ts')))
    .map((d) => d.name)
    .sort();
}

/** A command-line target that names no module. */
export class TargetError extends Error {}

/**
 * The module a command-line target names: a .wasm file, or a filter built into dist/ (`filter`
 * is then its name). `rootId` is the filter's name, or the file's name for a .wasm file
 * (without .debug: a debug build serves the same root id).
 */
export function moduleFor(target: string): { path: string; rootId: string; filter?: string } {
  if (target.endsWith('.wasm')) {
    if (!existsSync(target)) throw new TargetError(`no module at ${target}`);
    return { path: target, rootId: basename(target, '.wasm').replace(/\.debug$/, '') };
  }
  const filters = listFilters();
  if (!filters.includes(target)) {
    throw new TargetError(`"${target}" is neither a .wasm file nor a filter of ${PROJECT.root} (filters: ${filters.join(', ') || 'none; a filter is filters/<name>/index.ts'})`);
  }
  const path = join(DIST_DIR, `${target}.wasm`);
  if (!existsSync(path)) throw new TargetError(`${path} does not exist yet: run \`wfk build ${target}\` first`);
  return { path, rootId: target, filter: target };
}
