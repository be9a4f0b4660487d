// wfk push: a module to an OCI registry, as Istio pulls it.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { checkReference, registryFlags, registryOptions, type RegistryCliOptions } from './registry-options.js';

export function register(program: Command): void {
  registryFlags(program.command('push')
    .description('push a module to an OCI registry as the image Istio, Envoy Gateway and Higress pull')
    .argument('<module>', 'a .wasm file')
    .argument('<reference>', '<registry>/<repository>:<tag>')
    .option('--mount-from <repository>', 'mount blobs from another repository of the registry'))
    .action(async (path: string, reference: string, options: RegistryCliOptions & { mountFrom?: string }) => {
      const { push } = await import('../oci/transfer.js');
      await checkReference(reference);
      let module: Uint8Array;
      try { module = readFileSync(path); } catch (e) { throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code}`); }
      const result = await push(module, reference, { ...await registryOptions(options), mountFrom: options.mountFrom, progress: (l) => process.stderr.write(`${l}\n`) });
      process.stdout.write(`digest: ${result.digest}\nWasmPlugin url: ${result.url}\nWasmPlugin sha256: ${result.sha256}\n`);
    });
}
