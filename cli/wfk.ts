// wfk: build, check and try Proxy-Wasm filters. Exit codes: 0 success, 1 the work failed
// (a build error, a module Envoy would refuse), 2 the command line was wrong.
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { checkModule, formatReport } from './check.js';
import { BuildError, UsageError, WorkFailed } from './errors.js';

export async function main(argv: string[]): Promise<number> {
  const program = new Command('wfk')
    .description('Write, test and ship Envoy Proxy-Wasm filters in AssemblyScript')
    .exitOverride()
    .showHelpAfterError('(run wfk --help for usage)');

  program.command('build')
    .description('compile filters/<name>/ into dist/<name>.wasm (and a debug build), then check each module')
    .argument('[filters...]', 'filters to build (default: all)')
    .option('--no-debug', 'skip the debug module with its source map')
    .action(async (filters: string[], options: { debug: boolean }) => {
      // The compiler and wasm-tools load in seconds: only the commands that need them pay for it.
      const { buildFilters } = await import('./build.js');
      const built = await buildFilters(filters, { debug: options.debug, progress: (line) => process.stderr.write(`${line}\n`) });
      for (const b of built) process.stdout.write(`${b.release} (${b.size} bytes)\n`);
    });

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
      const { runFilters, formatRun, RunError } = await import('./run.js');
      const { TargetError } = await import('./paths.js');
      const { PluginLoadError } = await import('../host-sim/index.js');
      try {
        const result = await runFilters(targets, { ...options, configs: options.config });
        process.stdout.write(options.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatRun(result)}\n`);
      } catch (e) {
        if (e instanceof RunError || e instanceof TargetError || e instanceof PluginLoadError) throw new UsageError((e as Error).message);
        throw e;
      }
    });

  program.command('fuzz')
    .description('send random and malformed requests (and configurations) through a filter in host-sim; report traps, hangs, leaks and invalid output')
    .argument('<filter>', 'a filter name (built into dist/) or a .wasm file')
    .requiredOption('-c, --config <file>', "the filter's configuration (JSON)")
    .option('--requests <n>', 'random requests to send', (v) => positiveInt(v, '--requests'), 10_000)
    .option('--seed <n>', 'seed of the random generator (a finding names it, to replay the run)', (v) => positiveInt(v, '--seed'), 1)
    .option('--configs <n>', 'also try this many mutated configurations', (v) => positiveInt(v, '--configs'))
    .option('--root-id <id>', 'root id for a .wasm module')
    .option('--time-limit <ms>', 'longest one call into the module may run', (v) => positiveInt(v, '--time-limit'), 10_000)
    .option('--json', 'print the report as JSON')
    .action(async (target: string, options: { config: string; requests: number; seed: number; configs?: number; rootId?: string; timeLimit: number; json?: boolean }) => {
      const { fuzz, formatFuzz, FuzzError } = await import('./fuzz.js');
      const { TargetError } = await import('./paths.js');
      let configuration: string;
      try { configuration = readFileSync(options.config, 'utf8'); } catch (e) { throw new UsageError(`cannot read ${options.config}: ${(e as NodeJS.ErrnoException).code}`); }
      try {
        const report = await fuzz(target, { configuration, requests: options.requests, seed: options.seed, configs: options.configs ?? 0,
          rootId: options.rootId, callTimeLimitMs: options.timeLimit }, (line) => process.stderr.write(`${line}\n`));
        process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatFuzz(report)}\n`);
        if (report.findings.length > 0) throw new WorkFailed();
      } catch (e) {
        if (e instanceof FuzzError || e instanceof TargetError) throw new UsageError((e as Error).message);
        throw e;
      }
    });

  program.command('inspect')
    .description('show a module: ABI version, imports, exports, size and embedded metadata')
    .argument('<module>', 'a .wasm file')
    .option('--wat', 'also print the module as text')
    .option('--json', 'print JSON')
    .action(async (path: string, options: { wat?: boolean; json?: boolean }) => {
      const { inspectModule, formatInspection } = await import('./inspect.js');
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(path);
      } catch (e) {
        throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      let inspection;
      try {
        inspection = await inspectModule(bytes, options.wat === true);
      } catch (e) {
        throw new UsageError(`${path} is not a WebAssembly module: ${(e as Error).message}`);
      }
      process.stdout.write(options.json ? `${JSON.stringify(inspection, null, 2)}\n` : `${formatInspection(path, inspection)}\n`);
    });

  program.command('envoy-config')
    .description('print an Envoy v3 bootstrap that mounts a filter, or with --istio the WasmPlugin that deploys it')
    .argument('<filter>', 'the filter name')
    .requiredOption('--config <file>', "the filter's configuration (JSON)")
    .option('--istio', 'print an Istio WasmPlugin manifest instead')
    .option('--image <reference>', 'with --istio: the OCI image, e.g. registry.example.com/filters/rate-quota:1.0.0')
    .option('--module <file>', 'with --istio: the pushed module, whose image digest becomes sha256 (default dist/<filter>.wasm)')
    .option('--namespace <namespace>', 'with --istio: the WasmPlugin namespace', 'istio-system')
    .option('--selector <label=value>', 'with --istio: workload selector label (repeat)', collect, [])
    .option('--fail-open', 'let requests pass when the filter fails')
    .option('--json', 'print JSON instead of YAML')
    .action(async (filter: string, options: { config: string; istio?: boolean; image?: string; module?: string; namespace: string;
      selector: string[]; failOpen?: boolean; json?: boolean }) => {
      const { listFilters, DIST_DIR } = await import('./paths.js');
      if (!listFilters().includes(filter)) throw new UsageError(`unknown filter "${filter}"; filters are: ${listFilters().join(', ')}`);
      let configuration: Record<string, unknown>;
      try {
        configuration = JSON.parse(readFileSync(options.config, 'utf8'));
      } catch (e) {
        throw new UsageError(`cannot read the configuration ${options.config}: ${(e as Error).message}`);
      }
      const { envoyBootstrap, istioManifests, DeploymentError } = await import('./envoy-config.js');
      let documents: Record<string, unknown>[];
      if (options.istio) {
        if (!options.image) throw new UsageError('--istio needs --image <registry>/<repository>:<tag> (push the module first with wfk push)');
        const modulePath = options.module ?? `${DIST_DIR}/${filter}.wasm`;
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
          documents = istioManifests({ filter, configuration, image: options.image, module, namespace: options.namespace,
            selector: options.selector.length ? selector : undefined, failOpen: options.failOpen });
        } catch (e) {
          if (e instanceof DeploymentError) throw new UsageError(`${options.config}: ${e.message}`);
          throw e;
        }
      } else {
        documents = [envoyBootstrap({ filter, configuration, failOpen: options.failOpen })];
        // Checked against Envoy's own API before it is printed.
        const { validateBootstrap } = await import('./envoy-validate.js');
        const problems = validateBootstrap(documents[0]);
        if (problems.length > 0) throw new WorkFailed(`the bootstrap for ${filter} does not pass Envoy's API check:\n  ${problems.join('\n  ')}`);
      }
      if (options.json) process.stdout.write(`${JSON.stringify(documents.length === 1 ? documents[0] : documents, null, 2)}\n`);
      else {
        const { stringify } = await import('yaml');
        process.stdout.write(documents.map((d) => stringify(d)).join('---\n'));
      }
    });

  const registryFlags = (command: Command) => command
    .option('--username <name>', 'registry user (or WFK_REGISTRY_USERNAME, or docker login)')
    .option('--password-stdin', 'read the password from standard input (or WFK_REGISTRY_PASSWORD)')
    .option('--ca-file <pem>', "the CA that signed the registry's TLS certificate")
    .option('--plain-http', 'allow plain HTTP to a registry not on this machine')
    .option('--max-module-bytes <n>', 'largest module or layer accepted (default 64 MiB)')
    .option('--max-manifest-bytes <n>', 'largest manifest or image config accepted (default 4 MiB)')
    .option('--timeout <seconds>', 'longest the whole transfer may take (default 300)');

  /** A malformed reference is the caller's mistake (exit 2), not the registry's. */
  async function checkReference(reference: string): Promise<void> {
    const { parseReference } = await import('./oci/registry.js');
    try { parseReference(reference); } catch (e) { throw new UsageError((e as Error).message); }
  }

  registryFlags(program.command('push')
    .description('push a module to an OCI registry as the image Istio, Envoy Gateway and Higress pull')
    .argument('<module>', 'a .wasm file')
    .argument('<reference>', '<registry>/<repository>:<tag>')
    .option('--mount-from <repository>', 'mount blobs from another repository of the registry'))
    .action(async (path: string, reference: string, options: RegistryCliOptions & { mountFrom?: string }) => {
      const { push } = await import('./oci/transfer.js');
      await checkReference(reference);
      let module: Uint8Array;
      try { module = readFileSync(path); } catch (e) { throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code}`); }
      const result = await push(module, reference, { ...await registryOptions(options), mountFrom: options.mountFrom, progress: (l) => process.stderr.write(`${l}\n`) });
      process.stdout.write(`digest: ${result.digest}\nWasmPlugin url: ${result.url}\nWasmPlugin sha256: ${result.sha256}\n`);
    });

  registryFlags(program.command('pull')
    .description('pull a module from an OCI registry (compat, Docker, two-layer or CNCF artifact layouts), verifying digests')
    .argument('<reference>', '<registry>/<repository>:<tag> or @sha256:<digest>')
    .requiredOption('-o, --output <file>', 'where to write the module'))
    .action(async (reference: string, options: RegistryCliOptions & { output: string }) => {
      const { pull } = await import('./oci/transfer.js');
      await checkReference(reference);
      const { module, digest } = await pull(reference, { ...await registryOptions(options), progress: (l) => process.stderr.write(`${l}\n`) });
      writeFileSync(options.output, module);
      process.stdout.write(`${options.output}: ${module.length} bytes from ${digest}\n`);
    });

  program.command('stats-tags')
    .description("print the stats_config.stats_tags Envoy needs to turn the telemetry filter's metric names into Prometheus labels")
    .requiredOption('--config <file>', "the telemetry filter's configuration (JSON)")
    .option('--yaml', 'print YAML for a bootstrap instead of JSON')
    .action(async (options: { config: string; yaml?: boolean }) => {
      let configuration: { labels?: string[]; custom_labels?: Record<string, unknown> };
      try {
        configuration = JSON.parse(readFileSync(options.config, 'utf8'));
      } catch (e) {
        throw new UsageError(`cannot read the telemetry configuration ${options.config}: ${(e as Error).message}`);
      }
      const { statsTagsFor, telemetryLabels } = await import('./stats-tags.js');
      const stats = { stats_config: { stats_tags: statsTagsFor(telemetryLabels(configuration)), use_all_default_tags: false } };
      if (options.yaml) {
        const { stringify } = await import('yaml');
        process.stdout.write(stringify(stats));
      } else {
        process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
      }
    });

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
      const { moduleFor, TargetError } = await import('./paths.js');
      let module: { path: string };
      try { module = moduleFor('rate-quota'); } catch (e) { throw e instanceof TargetError ? new UsageError(e.message) : e; }
      const { Host, PluginLoadError } = await import('../host-sim/index.js');
      const host = new Host({ clusters: {} });
      try {
        host.addPlugin({ module: readFileSync(module.path), rootId: 'rate-quota', configuration });
      } catch (e) {
        if (e instanceof PluginLoadError) throw new UsageError(`${options.config}: the rate-quota filter refuses this configuration: ${e.message}`);
        throw e;
      } finally {
        host.close();
      }
      const { rateLimitConfig, RateLimitConfigError } = await import('./ratelimit-config.js');
      try {
        process.stdout.write(rateLimitConfig(configuration));
      } catch (e) {
        if (e instanceof RateLimitConfigError) throw new UsageError(`${options.config}: ${e.message}`);
        throw e;
      }
    });

  program.command('demo')
    .description('build the filters and run a scenario through them in host-sim (or real Envoy), telling what happens')
    .option('--envoy', 'run the same chain in real Envoy (ENVOY_BIN, .venv-envoy or PATH) instead of host-sim')
    .action(async (options: { envoy?: boolean }) => {
      const { runDemo } = await import('./demo.js');
      if (options.envoy) {
        const { envoyMissingReason } = await import('./envoy/process.js');
        const missing = envoyMissingReason();
        if (missing) throw new UsageError(`demo --envoy: ${missing}`);
      }
      await runDemo((line) => process.stdout.write(`${line}\n`), { envoy: options.envoy });
    });

  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof WorkFailed) {
      if (e.message) process.stderr.write(`wfk: ${e.message}\n`);
      return 1;
    }
    if (e instanceof UsageError) { process.stderr.write(`wfk: ${e.message}\n`); return 2; }
    if (e instanceof BuildError) { process.stderr.write(`wfk: build failed: ${e.message}\n`); return 1; }
    process.stderr.write(`wfk: ${(e as Error).message}\n`);
    return 1;
  }
}

function collect(value: string, previous: string[]): string[] { return [...previous, value]; }

interface RegistryCliOptions {
  username?: string; passwordStdin?: boolean; caFile?: string; plainHttp?: boolean;
  maxModuleBytes?: string; maxManifestBytes?: string; timeout?: string;
}

async function registryOptions(options: RegistryCliOptions) {
  let password: string | undefined;
  if (options.passwordStdin) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  return {
    username: options.username, password, caFile: options.caFile, plainHttp: options.plainHttp,
    maxModuleBytes: options.maxModuleBytes === undefined ? undefined : positiveInt(options.maxModuleBytes, '--max-module-bytes'),
    maxManifestBytes: options.maxManifestBytes === undefined ? undefined : positiveInt(options.maxManifestBytes, '--max-manifest-bytes'),
    timeoutMs: options.timeout === undefined ? undefined : positiveInt(options.timeout, '--timeout') * 1000,
  };
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a whole number of at least 1, got "${value}"`);
  return n;
}
