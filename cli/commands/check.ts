// wfk check: would Envoy's Proxy-Wasm host load these modules?
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { checkModule, formatReport } from '../check.js';
import { UsageError, WorkFailed } from '../errors.js';

export function register(program: Command): void {
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
}
