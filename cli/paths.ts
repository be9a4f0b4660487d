// Where the kit's parts live. Kept apart from the build so commands that only need paths start fast.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

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
