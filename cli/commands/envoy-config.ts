// wfk envoy-config: an Envoy bootstrap (or Istio WasmPlugin) that mounts a filter.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError, WorkFailed } from '../errors.js';
import { collect } from './options.js';

export function register(program: Command): void {
  program.command('envoy-config')
    .description('print an Envoy v3 bootstrap that mounts a filter, or with --istio the WasmPlugin that deploys it')
    .argument('<filter>', 'the filter name')
    .requiredOption('--config <file>', "the filter's configuration (JSON)")
    .option('--istio', 'print an Istio WasmPlugin manifest instead')
    .option('--image <reference>', 'with --istio: the OCI image, e.g. registry.example.com/filters/my-filter:1.0.0')
    .option('--module <file>', 'with --istio: the pushed module, whose image digest becomes sha256 (default dist/<filter>.wasm)')
    .option('--namespace <namespace>', 'with --istio: the WasmPlugin namespace', 'istio-system')
    .option('--selector <label=value>', 'with --istio: workload selector label (repeat)', collect, [])
    .option('--fail-open', 'let requests pass when the filter fails')
    .option('--json', 'print JSON instead of YAML')
    .action(async (filter: string, options: { config: string; istio?: boolean; image?: string; module?: string; namespace: string;
      selector: string[]; failOpen?: boolean; json?: boolean }) => {
      const { checkedFilter } = await import('../filter-config.js');
      const { configuration, deployment, modulePath: built } = await checkedFilter(filter, options.config);
      const { envoyBootstrap, istioManifests } = await import('../envoy-config.js');
      const { DeploymentError } = await import('../deployment.js');
      let documents: Record<string, unknown>[];
      if (options.istio) {
        if (!options.image) throw new UsageError('--istio needs --image <registry>/<repository>:<tag> (push the module first with wfk push)');
        const modulePath = options.module ?? built;
        let module: Uint8Array;
        try {
          module = readFileSync(modulePath);
        } catch {
          throw new UsageError(`cannot read ${modulePath}: build it with \`wfk build ${filter}\` or pass --module`);
        }
        const selector = Object.fromEntries(options.selector.map((s) => {
          const eq = s.indexOf('=');
          if (eq <= 0) throw new UsageError(`--selector "${s}" must look like label=value`);
          return [s.slice(0, eq), s.slice(eq + 1)];
        }));
        try {
          documents = istioManifests({ filter, configuration, deployment, image: options.image, module, namespace: options.namespace,
            selector: options.selector.length ? selector : undefined, failOpen: options.failOpen });
        } catch (e) {
          if (e instanceof DeploymentError) throw new UsageError(`${options.config}: ${e.message}`);
          throw e;
        }
      } else {
        documents = [envoyBootstrap({ filter, configuration, deployment, failOpen: options.failOpen })];
        // Checked against Envoy's own API before it is printed.
        const { validateBootstrap } = await import('../envoy-validate.js');
        const problems = validateBootstrap(documents[0]);
        if (problems.length > 0) throw new WorkFailed(`the bootstrap for ${filter} does not pass Envoy's API check:\n  ${problems.join('\n  ')}`);
      }
      if (options.json) process.stdout.write(`${JSON.stringify(documents.length === 1 ? documents[0] : documents, null, 2)}\n`);
      else {
        const { toYaml } = await import('../envoy/resources.js');
        process.stdout.write(documents.map((d) => toYaml(d)).join('---\n'));
      }
    });
}
