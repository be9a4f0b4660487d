// wfk push: a module to an OCI registry, as Istio pulls it; a module Envoy would refuse is not pushed.
import type { Command } from 'commander';
import { WorkFailed } from '../errors.js';
import { readInput } from './options.js';
import { checkReference, registryFlags, registryOptions, type RegistryCliOptions } from './registry-options.js';

export function register(program: Command): void {
  registryFlags(program.command('push')
    .description('check a module as `wfk check` does, then push it to an OCI registry as the image Istio, Envoy Gateway and Higress pull')
    .argument('<module>', 'a .wasm file')
    .argument('<reference>', '<registry>/<repository>:<tag>')
    .option('--mount-from <repository>', 'mount blobs from another repository of the registry')
    .option('--force', 'push even a module Envoy would refuse')
    .option('--json', 'print the result as JSON'))
    .action(async (path: string, reference: string, options: RegistryCliOptions & { mountFrom?: string; force?: boolean; json?: boolean }) => {
      await checkReference(reference);
      const module = readInput(path, 'the module');
      const { checkModule, formatReport } = await import('../check.js');
      const report = checkModule(module);
      if (report.errors.length > 0) {
        process.stderr.write(`${formatReport(path, report)}\n`);
        if (!options.force) throw new WorkFailed(`not pushed: Envoy would refuse ${path} (fix it, or push anyway with --force)`);
      }
      const { push } = await import('../oci/transfer.js');
      const result = await push(module, reference, { ...await registryOptions(options), mountFrom: options.mountFrom, progress: (l) => process.stderr.write(`${l}\n`) });
      if (options.json) process.stdout.write(`${JSON.stringify({ reference, digest: result.digest, url: result.url, sha256: result.sha256 }, null, 2)}\n`);
      else process.stdout.write(`digest: ${result.digest}\nWasmPlugin url: ${result.url}\nWasmPlugin sha256: ${result.sha256}\n`);
    });
}
