// wfk pull: a module from an OCI registry, digests verified.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { checkReference, registryFlags, registryOptions, type RegistryCliOptions } from './registry-options.js';

export function register(program: Command): void {
  registryFlags(program.command('pull')
    .description('pull a module from an OCI registry (compat, Docker, two-layer or CNCF artifact layouts), verifying digests')
    .argument('<reference>', '<registry>/<repository>:<tag> or @sha256:<digest>')
    .requiredOption('-o, --output <file>', 'where to write the module'))
    .action(async (reference: string, options: RegistryCliOptions & { output: string }) => {
      const { pull } = await import('../oci/transfer.js');
      await checkReference(reference);
      const { module, digest } = await pull(reference, { ...await registryOptions(options), progress: (l) => process.stderr.write(`${l}\n`) });
      writeFileSync(options.output, module);
      process.stdout.write(`${options.output}: ${module.length} bytes from ${digest}\n`);
    });
}
