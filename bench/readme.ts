// The README's performance tables are written by the benchmarks that measure them: each between
// its own `<!-- bench:<name> -->` markers, headed by the machine, the date and the command.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { KIT } from '../cli/paths.js';

export const WRITE_README = process.argv.includes('--write-readme');

/** Replaces the README section `name` with `lines`, after a line saying where they come from. */
export function writeReadmeSection(name: string, conditions: string, command: string, lines: string[]): void {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const cpu = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) ?? [])[1] ?? 'unknown CPU';
  const header = `Measured ${new Date().toISOString().slice(0, 10)} on ${cpu} (${cpus().length} cores), Node.js ${process.version}, ${conditions}, by \`${command}\`:`;
  const readme = join(KIT.root, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`README.md has no ${start} ... ${end} section`);
  writeFileSync(readme, `${text.slice(0, from + start.length)}\n${[header, '', ...lines].join('\n')}\n${text.slice(to)}`);
  console.log(`README.md: section bench:${name} rewritten`);
}
