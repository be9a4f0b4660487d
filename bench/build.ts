// The build loop: a full compile of a filter (empty cache) against a rebuild with nothing
// changed, which must only hash the sources the compiler read last time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFilter } from '../cli/build.js';
import { KIT, type Project } from '../cli/paths.js';
import { row } from './table.js';

export async function benchBuild(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'wfk-bench-build-'));
  // The kit's filters, built into a scratch dist/ and cache.
  const project: Project = { ...KIT, distDir: join(scratch, 'dist'), cacheDir: join(scratch, 'cache') };
  try {
    const time = async () => { const t = process.hrtime.bigint(); await buildFilter('add-header', { project }); return Number(process.hrtime.bigint() - t) / 1e6; };
    const full = await time();
    const unchanged: number[] = [];
    for (let i = 0; i < 5; i++) unchanged.push(await time());
    unchanged.sort((a, b) => a - b);
    const again = unchanged[2];
    console.log('\nwfk build add-header (release and debug), this process');
    console.log(row(['', 'ms', 'ratio to full']));
    console.log(row(['full build (empty cache)', full.toFixed(0), '1.00']));
    console.log(row(['nothing changed (median of 5)', again.toFixed(1), (again / full).toFixed(4)]));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
