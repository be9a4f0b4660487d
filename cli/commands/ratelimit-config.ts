// wfk ratelimit-config: envoyproxy/ratelimit's configuration from rate-quota's.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

export function register(program: Command): void {
  program.command('ratelimit-config')
    .description('print the envoyproxy/ratelimit configuration for a rate-quota configuration in global mode')
    .requiredOption('--config <file>', "the rate-quota filter's configuration (JSON)")
    .action(async (options: { config: string }) => {
      let configuration: Record<string, unknown>;
      try {
        configuration = JSON.parse(readFileSync(options.config, 'utf8'));
      } catch (e) {
        throw new UsageError(`cannot read the rate-quota configuration ${options.config}: ${(e as Error).message}`);
      }
      // The filter itself checks the configuration first: no limits for settings it refuses.
      const { moduleFor, TargetError } = await import('../paths.js');
      let module: { path: string };
      try { module = moduleFor('rate-quota'); } catch (e) { throw e instanceof TargetError ? new UsageError(e.message) : e; }
      const { Host, PluginLoadError } = await import('../../host-sim/index.js');
      const host = new Host({ clusters: {} });
      try {
        host.addPlugin({ module: readFileSync(module.path), rootId: 'rate-quota', configuration });
      } catch (e) {
        if (e instanceof PluginLoadError) throw new UsageError(`${options.config}: the rate-quota filter refuses this configuration: ${e.message}`);
        throw e;
      } finally {
        host.close();
      }
      const { rateLimitConfig, RateLimitConfigError } = await import('../ratelimit-config.js');
      try {
        process.stdout.write(rateLimitConfig(configuration));
      } catch (e) {
        if (e instanceof RateLimitConfigError) throw new UsageError(`${options.config}: ${e.message}`);
        throw e;
      }
    });
}
