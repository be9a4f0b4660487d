// wfk service-config: the configuration of the service a filter's configuration calls
// (e.g. envoyproxy/ratelimit's limits for a global quota), from the same file.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

export function register(program: Command): void {
  program.command('service-config')
    .description("print the configuration of the service a filter's configuration calls (e.g. envoyproxy/ratelimit's for a global quota)")
    .argument('<filter>', 'the filter name')
    .requiredOption('--config <file>', "the filter's configuration (JSON)")
    .action(async (filter: string, options: { config: string }) => {
      const { checkedFilter } = await import('../filter-config.js');
      const { DeploymentError } = await import('../deployment.js');
      const { configuration, deployment } = await checkedFilter(filter, options.config);
      let output: { service: string; text: string } | undefined;
      try {
        output = deployment.serviceConfig?.(configuration);
      } catch (e) {
        if (e instanceof DeploymentError) throw new UsageError(`${options.config}: ${e.message}`);
        throw e;
      }
      if (!output) throw new UsageError(`${options.config}: this ${filter} configuration calls no service`);
      process.stdout.write(output.text);
    });
}
