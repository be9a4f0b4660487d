// wfk build: compile the project's filters into dist/ and check each module.
import type { Command } from 'commander';
import { BuildError } from '../errors.js';

export function register(program: Command): void {
  program.command('build')
    .description("compile the project's filters/<name>/index.ts into dist/<name>.wasm (and a debug build), then check each module; unchanged filters are not compiled again")
    .argument('[filters...]', 'filters to build (default: all)')
    .option('--no-debug', 'skip the debug module with its source map')
    .option('--json', 'print the result as JSON')
    .action(async (filters: string[], options: { debug: boolean; json?: boolean }) => {
      const { buildFilters } = await import('../build.js');
      const outcome = await buildFilters(filters, { debug: options.debug, progress: (line) => process.stderr.write(`${line}\n`) });
      if (options.json) {
        process.stdout.write(`${JSON.stringify({
          built: outcome.built,
          failed: outcome.failed.map(({ name, error }) => ({ name, error: error.message })),
        }, null, 2)}\n`);
      } else {
        for (const b of outcome.built) process.stdout.write(`${b.release} (${b.size} bytes)\n`);
      }
      if (outcome.failed.length > 0) {
        throw new BuildError(outcome.failed.map(({ error }) => error.message).join('\n\n'));
      }
    });
}
