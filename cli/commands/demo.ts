// wfk demo: the filters built and a scenario run through them.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

export function register(program: Command): void {
  program.command('demo')
    .description('build the filters and run a scenario through them in host-sim (or real Envoy), telling what happens')
    .option('--envoy', 'run the same chain in real Envoy (ENVOY_BIN, .venv-envoy or PATH) instead of host-sim')
    .action(async (options: { envoy?: boolean }) => {
      const { runDemo } = await import('../demo.js');
      if (options.envoy) {
        const { envoyMissingReason } = await import('../envoy/process.js');
        const missing = envoyMissingReason();
        if (missing) throw new UsageError(`demo --envoy: ${missing}`);
      }
      await runDemo((line) => process.stdout.write(`${line}\n`), { envoy: options.envoy });
    });
}
