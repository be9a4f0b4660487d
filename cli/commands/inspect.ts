// wfk inspect: what a module imports, exports and declares.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { readInput } from './options.js';

export function register(program: Command): void {
  program.command('inspect')
    .description('show a module: ABI version, imports, exports, size and embedded metadata')
    .argument('<module>', 'a .wasm file')
    .option('--wat', 'print the module as WebAssembly text instead (valid WAT: `wfk inspect m.wasm --wat > m.wat`)')
    .option('--json', 'print JSON')
    .action(async (path: string, options: { wat?: boolean; json?: boolean }) => {
      const { inspectModule, formatInspection } = await import('../inspect.js');
      const bytes = readInput(path, 'the module');
      let inspection;
      try {
        inspection = await inspectModule(bytes, options.wat === true);
      } catch (e) {
        throw new UsageError(`${path} is not a WebAssembly module: ${(e as Error).message}`);
      }
      if (options.json) process.stdout.write(`${JSON.stringify(inspection, null, 2)}\n`);
      else if (options.wat) process.stdout.write(inspection.wat!.endsWith('\n') ? inspection.wat! : `${inspection.wat}\n`);
      else process.stdout.write(`${formatInspection(path, inspection)}\n`);
    });
}
