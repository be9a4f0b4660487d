// wfk: build, check and try Proxy-Wasm filters. Exit codes: 0 success, 1 the work failed
// (a build error, a module Envoy would refuse), 2 the command line was wrong.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { checkModule, formatReport } from './check.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('wfk')
    .description('Write, test and ship Envoy Proxy-Wasm filters in AssemblyScript')
    .exitOverride()
    .showHelpAfterError('(run wfk --help for usage)');

  program.command('build')
    .description('compile filters/<name>/ into dist/<name>.wasm (and a debug build), then check each module')
    .argument('[filters...]', 'filters to build (default: all)')
    .option('--no-debug', 'skip the debug module with its source map')
    .action(async (filters: string[], options: { debug: boolean }) => {
      // The compiler and wasm-tools load in seconds: only the commands that need them pay for it.
      const { buildFilters } = await import('./build.js');
      const built = await buildFilters(filters, { debug: options.debug, progress: (line) => process.stderr.write(`${line}\n`) });
      for (const b of built) process.stdout.write(`${b.release} (${b.size} bytes)\n`);
    });

  program.command('check')
    .description("verify that Envoy's Proxy-Wasm host would load a module")
    .argument('<modules...>', '.wasm files to check')
    .option('--json', 'print the report as JSON')
    .action((modules: string[], options: { json?: boolean }) => {
      let failed = false;
      for (const path of modules) {
        let bytes: Uint8Array;
        try {
          bytes = readFileSync(path);
        } catch (e) {
          throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
        const report = checkModule(bytes);
        failed ||= report.errors.length > 0;
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ path, abi: report.abi, errors: report.errors, warnings: report.warnings })}\n`);
        } else {
          process.stdout.write(`${formatReport(path, report)}\n`);
        }
      }
      if (failed) throw new WorkFailed();
    });

  program.command('stats-tags')
    .description("print the stats_config.stats_tags Envoy needs to turn the telemetry filter's metric names into Prometheus labels")
    .requiredOption('--config <file>', "the telemetry filter's configuration (JSON)")
    .option('--yaml', 'print YAML for a bootstrap instead of JSON')
    .action(async (options: { config: string; yaml?: boolean }) => {
      let configuration: { labels?: string[]; custom_labels?: Record<string, unknown> };
      try {
        configuration = JSON.parse(readFileSync(options.config, 'utf8'));
      } catch (e) {
        throw new UsageError(`cannot read the telemetry configuration ${options.config}: ${(e as Error).message}`);
      }
      const { statsTagsFor, telemetryLabels } = await import('./stats-tags.js');
      const stats = { stats_config: { stats_tags: statsTagsFor(telemetryLabels(configuration)), use_all_default_tags: false } };
      if (options.yaml) {
        const { stringify } = await import('yaml');
        process.stdout.write(stringify(stats));
      } else {
        process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
      }
    });

  program.command('demo')
    .description('build the filters and run a scenario through them in host-sim, telling what happens')
    .action(async () => {
      const { runDemo } = await import('./demo.js');
      await runDemo((line) => process.stdout.write(`${line}\n`));
    });

  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof WorkFailed) return 1;
    if (e instanceof UsageError) { process.stderr.write(`wfk: ${e.message}\n`); return 2; }
    if ((e as Error).name === 'BuildError') { process.stderr.write(`wfk: build failed: ${(e as Error).message}\n`); return 1; }
    process.stderr.write(`wfk: ${(e as Error).message}\n`);
    return 1;
  }
}

/** The command ran and its answer is "no" (for example a module Envoy would refuse). */
class WorkFailed extends Error {}

/** The command line names something that cannot be used. */
class UsageError extends Error {}
