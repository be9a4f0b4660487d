// wfk build: compile filters into dist/ and check each module.
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('build')
    .description('compile filters/<name>/ into dist/<name>.wasm (and a debug build), then check each module')
    .argument('[filters...]', 'filters to build (default: all)')
    .option('--no-debug', 'skip the debug module with its source map')
    .action(async (filters: string[], options: { debug: boolean }) => {
      // The compiler and wasm-tools load in seconds: only the commands that need them pay for it.
      const { buildFilters } = await import('../build.js');
      const built = await buildFilters(filters, { debug: options.debug, progress: (line) => process.stderr.write(`${line}\n`) });
      for (const b of built) process.stdout.write(`${b.release} (${b.size} bytes)\n`);
    });
}
