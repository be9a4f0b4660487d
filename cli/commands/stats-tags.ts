// wfk stats-tags: the stats_tags Envoy needs to turn a filter's metric names into labels.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

export function register(program: Command): void {
  program.command('stats-tags')
    .description("print the stats_config.stats_tags Envoy needs to turn a filter's metric names into Prometheus labels")
    .argument('<filter>', 'the filter name')
    .requiredOption('--config <file>', "the filter's configuration (JSON)")
    .option('--yaml', 'print YAML for a bootstrap instead of JSON')
    .action(async (filter: string, options: { config: string; yaml?: boolean }) => {
      const { checkedFilter } = await import('../filter-config.js');
      const { configuration, deployment } = await checkedFilter(filter, options.config);
      const tags = deployment.statsTags?.(configuration);
      if (!tags) throw new UsageError(`the ${filter} filter's metric names carry no labels, so it needs no stats_tags`);
      const stats = { stats_config: { stats_tags: tags, use_all_default_tags: false } };
      if (options.yaml) {
        const { toYaml } = await import('../envoy/resources.js');
        process.stdout.write(toYaml(stats));
      } else {
        process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
      }
    });
}
