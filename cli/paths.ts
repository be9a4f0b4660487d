// Where the kit's parts live. Kept apart from the build so commands that only need paths start fast.
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

export const ROOT = resolve(new URL('..', import.meta.url).pathname);
export const FILTERS_DIR = join(ROOT, 'filters');
export const DIST_DIR = join(ROOT, 'dist');

/** Every filter under filters/ (a folder with an index.ts). */
export function listFilters(): string[] {
  return readdirSync(FILTERS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(FILTERS_DIR, d.name, 'index.ts')))
    .map((d) => d.name)
    .sort();
}

/** A command-line target that names no module. */
export class TargetError extends Error {}

/**
 * The module a command-line target names: a .wasm file, or a filter built into dist/ (`filter`
 * is then its name). `rootId` is the filter's name, or the file's name for a .wasm file.
 */
export function moduleFor(target: string): { path: string; rootId: string; filter?: string } {
  if (target.endsWith('.wasm')) {
    if (!existsSync(target)) throw new TargetError(`no module at ${target}`);
    return { path: target, rootId: basename(target, '.wasm') };
  }
  if (!listFilters().includes(target)) throw new TargetError(`"${target}" is neither a .wasm file nor a filter (filters: ${listFilters().join(', ')})`);
  const path = join(DIST_DIR, `${target}.wasm`);
  if (!existsSync(path)) throw new TargetError(`${path} does not exist yet: run \`wfk build ${target}\` first`);
  return { path, rootId: target, filter: target };
}
