// wfk inspect: what a module imports, exports and declares.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

export function register(program: Command): void {
  program.command('inspect')
    .description('show a module: ABI version, imports, exports, size and embedded metadata')
    .argument('<module>', 'a .wasm file')
    .option('--wat', 'also print the module as text')
    .option('--json', 'print JSON')
    .action(async (path: string, options: { wat?: boolean; json?: boolean }) => {
      const { inspectModule, formatInspection } = await import('../inspect.js');
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(path);
      } catch (e) {
        throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      let inspection;
      try {
        inspection = await inspectModule(bytes, options.wat === true);
      } catch (e) {
        throw new UsageError(`${path} is not a WebAssembly module: ${(e as Error).message}`);
      }
      process.stdout.write(options.json ? `${JSON.stringify(inspection, null, 2)}\n` : `${formatInspection(path, inspection)}\n`);
    });
}
