// wfk check: would Envoy's Proxy-Wasm host load these modules?
import type { Command } from 'commander';
import { checkModule, formatReport } from '../check.js';
import { WorkFailed } from '../errors.js';
import { readInput } from './options.js';

export function register(program: Command): void {
  program.command('check')
    .description("verify that Envoy's Proxy-Wasm host would load a module")
    .argument('<modules...>', '.wasm files to check')
    .option('--json', 'print the report as JSON')
    .action((modules: string[], options: { json?: boolean }) => {
      let failed = false;
      for (const path of modules) {
        const report = checkModule(readInput(path, 'the module'));
        failed ||= report.errors.length > 0;
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ path, abi: report.abi, errors: report.errors, warnings: report.warnings })}\n`);
        } else {
          process.stdout.write(`${formatReport(path, report)}\n`);
        }
      }
      if (failed) throw new WorkFailed();
    });
}
