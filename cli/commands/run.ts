// wfk run: requests through filters in host-sim (or real Envoy), and what each filter did.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { collect, positiveInt } from './options.js';

export function register(program: Command): void {
  program.command('run')
    .description('send requests through one or more filters in host-sim and show what each did')
    .argument('<filters...>', 'filter names (built into dist/) or .wasm files, in chain order')
    .option('-c, --config <file>', 'configuration of the next filter (repeat, in chain order)', collect, [])
    .option('--request <file>', 'a JSON request, or a list of them ({method, path, headers, body, ...})')
    .option('-X, --method <method>', 'request method', 'GET')
    .option('--path <path>', 'request path', '/')
    .option('-H, --header <header>', '"name: value" (repeat)', collect, [])
    .option('--body <text>', 'request body')
    .option('--workers <n>', 'worker VMs', (v) => positiveInt(v, '--workers'), 1)
    .option('--count <n>', 'send the request(s) this many times', (v) => positiveInt(v, '--count'), 1)
    .option('--upstream <url>', 'a real upstream server (default: one that echoes the request)')
    .option('--root-id <id>', 'root id for a single .wasm module (default: its file name)')
    .option('--json', 'print the result as JSON')
    .action(async (targets: string[], options: { config: string[]; request?: string; method: string; path: string; header: string[];
      body?: string; workers: number; count: number; upstream?: string; rootId?: string; json?: boolean }) => {
      const { runFilters, formatRun, RunError } = await import('../run.js');
      const { TargetError } = await import('../paths.js');
      const { PluginLoadError } = await import('../../host-sim/index.js');
      try {
        const result = await runFilters(targets, { ...options, configs: options.config });
        process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatRun(result)}\n`);
      } catch (e) {
        if (e instanceof RunError || e instanceof TargetError || e instanceof PluginLoadError) throw new UsageError((e as Error).message);
        throw e;
      }
    });
}
