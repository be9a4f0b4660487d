// wfk fuzz: generated requests and configurations against a filter, looking for traps and hangs.
import type { Command } from 'commander';
import { UsageError, WorkFailed } from '../errors.js';
import { positiveInt, readInput } from './options.js';

export function register(program: Command): void {
  program.command('fuzz')
    .description('send random and malformed requests (and configurations) through a filter in host-sim; report traps, hangs, leaks and invalid output')
    .argument('<filter>', 'a filter name (built into dist/) or a .wasm file')
    .requiredOption('-c, --config <file>', "the filter's configuration (JSON)")
    .option('--requests <n>', 'random requests to send', (v) => positiveInt(v, '--requests'), 10_000)
    .option('--seed <n>', 'seed of the random generator (a finding names it, to replay the run)', (v) => positiveInt(v, '--seed'), 1)
    .option('--configs <n>', 'also try this many mutated configurations', (v) => positiveInt(v, '--configs'))
    .option('--root-id <id>', 'root id for a .wasm module')
    .option('--time-limit <ms>', 'longest one call into the module may run', (v) => positiveInt(v, '--time-limit'), 10_000)
    .option('--json', 'print the report as JSON')
    .action(async (target: string, options: { config: string; requests: number; seed: number; configs?: number; rootId?: string; timeLimit: number; json?: boolean }) => {
      const { fuzz, formatFuzz, FuzzError } = await import('../fuzz.js');
      const { TargetError } = await import('../paths.js');
      let configuration: string;
      configuration = readInput(options.config, 'the configuration').toString('utf8');
      try {
        const report = await fuzz(target, { configuration, requests: options.requests, seed: options.seed, configs: options.configs ?? 0,
          rootId: options.rootId, callTimeLimitMs: options.timeLimit }, (line) => process.stderr.write(`${line}\n`));
        process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatFuzz(report)}\n`);
        if (report.findings.length > 0) throw new WorkFailed();
      } catch (e) {
        if (e instanceof FuzzError || e instanceof TargetError) throw new UsageError((e as Error).message);
        throw e;
      }
    });
}
