// wfk stats-tags: the stats_tags Envoy needs for telemetry's labels.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

export function register(program: Command): void {
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
      const { statsTagsFor, telemetryLabels } = await import('../stats-tags.js');
      const stats = { stats_config: { stats_tags: statsTagsFor(telemetryLabels(configuration)), use_all_default_tags: false } };
      if (options.yaml) {
        const { stringify } = await import('yaml');
        process.stdout.write(stringify(stats));
      } else {
        process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
      }
    });
}
