// wfk pull: a module from an OCI registry, digests verified.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describeSystemError, UsageError } from '../errors.js';
import { checkReference, registryFlags, registryOptions, type RegistryCliOptions } from './registry-options.js';

export function register(program: Command): void {
  registryFlags(program.command('pull')
    .description('pull a module from an OCI registry (compat, Docker, two-layer or CNCF artifact layouts), verifying digests')
    .argument('<reference>', '<registry>/<repository>:<tag> or @sha256:<digest>')
    .requiredOption('-o, --output <file>', 'where to write the module ("-": standard output)')
    .option('--json', 'print the result as JSON'))
    .action(async (reference: string, options: RegistryCliOptions & { output: string; json?: boolean }) => {
      await checkReference(reference);
      const { pull } = await import('../oci/transfer.js');
      const { module, digest } = await pull(reference, { ...await registryOptions(options), progress: (l) => process.stderr.write(`${l}\n`) });
      const toStdout = options.output === '-';
      if (toStdout) process.stdout.write(module);
      else {
        try { writeFileSync(options.output, module); } catch (e) { throw new UsageError(`cannot write ${options.output}: ${describeSystemError(e)}`); }
      }
      // With the module on standard output, the summary goes to standard error.
      const summary = options.json ? `${JSON.stringify({ reference, digest, output: options.output, bytes: module.length }, null, 2)}\n` : `${options.output}: ${module.length} bytes from ${digest}\n`;
      (toStdout ? process.stderr : process.stdout).write(summary);
    });
}
