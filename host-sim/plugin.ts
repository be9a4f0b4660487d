// A plugin as Envoy loads it: the load rules (load-rules.ts) check the module, the base VM starts it, a canary VM validates
// the configuration (vm_start, configure), then each worker gets its own VM that does the same
// before it serves streams. Any failure rejects the plugin with a message naming it.
import type { AbiVersion } from './contract.js';
import { linkImports, LinkError, type HostServices } from './host-functions/index.js';
import type { ModuleInfo } from './wasm/binary.js';
import { checkModule, refusal } from './load-rules.js';
import type { NodeInfo } from './attributes.js';
import { rootAttribute } from './attribute-lookup.js';
import type { LogSink } from './logs.js';
import { SourceMapLocator, type TrapLocator } from './source-map.js';
import { WasmVm, type VmOwner } from './vm.js';
import type { Watchdog } from './watchdog.js';
import { platform } from './platform.js';

/** A module file's name without its folder and .wasm: "dist/add-header.wasm" is "add-header". */
const moduleName = (path: string) => path.replace(/^.*[\\/]/, '').replace(/\.wasm$/, '');

export interface PluginSpec {
  /** A path to a .wasm file, or the module's bytes. */
  module: string | Uint8Array;
  /** Envoy's plugin name (defaults to the root id or the file name). */
  name?: string;
  rootId?: string;
  vmId?: string;
  /** The plugin configuration: bytes, a string, or an object sent as JSON. */
  configuration?: string | Uint8Array | object;
  vmConfiguration?: string | Uint8Array | object;
  /** Envoy's fail_open / failure_policy: false (default) answers 503 when the VM has failed. */
  failOpen?: boolean;
  /** WASI environment variables. */
  environment?: Record<string, string>;
}

/** Envoy refused the plugin; `reason` says why in Envoy's words where it has them. */
export class PluginLoadError extends Error {
  override name = 'PluginLoadError';
  constructor(readonly plugin: string, readonly reason: string) {
    super(`Unable to create Wasm plugin ${plugin}: ${reason}`);
  }
}

function toBytes(value: string | Uint8Array | object | undefined): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value;
  return new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
}

/** What a plugin needs from the host besides the ABI services. */
export interface PluginHost {
  readonly services: HostServices;
  readonly logs: LogSink;
  readonly node: NodeInfo;
  /** Extra root-level attributes a test set, by dotted path. */
  readonly rootAttributes: Map<string, Uint8Array>;
  /** Stops everything a discarded VM had running (its tick timer). */
  retireVm(vm: WasmVm): void;
  /** Runs `work` later, outside the current call into any module (Envoy posts such work to the dispatcher). */
  post(work: () => void): void;
  readonly watchdog: Watchdog;
}

export class Plugin implements VmOwner {
  readonly name: string;
  readonly rootId: string;
  readonly vmId: string;
  readonly configuration: Uint8Array;
  readonly vmConfiguration: Uint8Array;
  readonly failOpen: boolean;
  readonly abi: AbiVersion;
  readonly logs: LogSink;
  readonly locator?: TrapLocator;
  readonly watchdog: Watchdog;
  /** One VM per worker; vms[i] serves the streams of worker i. */
  readonly vms: WasmVm[] = [];
  /** The main thread's VM: configured like a worker's (its root context gets ticks), serves no stream. */
  mainVm?: WasmVm;
  /** The root context id in each VM. */
  readonly rootContextIds = new Map<WasmVm, number>();

  private constructor(
    readonly host: PluginHost,
    spec: PluginSpec,
    readonly module: WebAssembly.Module,
    readonly info: ModuleInfo,
    abi: AbiVersion,
    locator: TrapLocator | undefined,
  ) {
    this.rootId = spec.rootId ?? '';
    this.vmId = spec.vmId ?? '';
    this.name = spec.name ?? (spec.rootId || (typeof spec.module === 'string' ? moduleName(spec.module) : 'plugin'));
    this.configuration = toBytes(spec.configuration);
    this.vmConfiguration = toBytes(spec.vmConfiguration);
    this.failOpen = spec.failOpen ?? false;
    this.abi = abi;
    this.logs = host.logs;
    this.watchdog = host.watchdog;
    this.locator = locator;
  }

  /** Loads, checks and starts the plugin in `workers` VMs; throws PluginLoadError. */
  static load(host: PluginHost, spec: PluginSpec, workers: number, environment: Record<string, string> = {}): Plugin {
    const label = spec.name ?? spec.rootId ?? (typeof spec.module === 'string' ? moduleName(spec.module) : 'plugin');
    let bytes: Uint8Array;
    let locator: SourceMapLocator | undefined;
    if (typeof spec.module === 'string') {
      try {
        bytes = platform().readFile(spec.module);
      } catch (e) {
        throw new PluginLoadError(label, `cannot read the module ${spec.module}: ${(e as Error).message}`);
      }
      locator = SourceMapLocator.forModule(spec.module);
    } else {
      bytes = spec.module;
    }
    const report = checkModule(bytes);
    const refused = refusal(report);
    if (refused !== undefined) throw new PluginLoadError(label, refused);
    const info = report.module!;
    const abi = report.abi!;
    let module: WebAssembly.Module;
    try {
      module = new WebAssembly.Module(host.watchdog.prepare(bytes, locator) as Uint8Array<ArrayBuffer>);
    } catch (e) {
      throw new PluginLoadError(label, `Failed to load Wasm code: ${(e as Error).message}`);
    }
    const plugin = new Plugin(host, spec, module, info, abi, locator);
    const env = { ...environment, ...(spec.environment ?? {}) };
    // The base VM: link, instantiate, start. Envoy keeps it only to clone from.
    plugin.startVm('base', env, false);
    // The canary validates the configuration; it is discarded afterwards.
    const canary = plugin.startVm('canary', env, true);
    canary.retired = true;
    host.retireVm(canary);
    // Envoy's thread-local plugin has a copy on the main thread too.
    plugin.mainVm = plugin.startVm('main', env, true);
    for (let w = 0; w < workers; w++) plugin.vms.push(plugin.startVm(`worker ${w}`, env, true));
    return plugin;
  }

  private startVm(label: string, environment: Record<string, string>, configure: boolean): WasmVm {
    const vm = new WasmVm(this, label, this.module, this.info, this.abi);
    const firstLog = this.logs.entries.length;
    let imports: WebAssembly.Imports;
    try {
      imports = linkImports(vm, this.info, this.host.services, {
        environment,
        wakeQueue: (rootContextId, token) => this.host.post(() => vm.call('proxy_on_queue_ready', rootContextId, rootContextId, token)),
      });
    } catch (e) {
      throw new PluginLoadError(this.name, e instanceof LinkError ? e.message : String(e));
    }
    try {
      vm.instantiate(imports);
    } catch (e) {
      throw new PluginLoadError(this.name, (e as Error).message);
    }
    vm.runStart();
    if (vm.failed) throw new PluginLoadError(this.name, vm.failure);
    if (!configure) return vm;
    const rootContextId = vm.newContextId();
    vm.contexts.set(rootContextId, { kind: 'root', id: rootContextId, rootId: this.rootId });
    this.rootContextIds.set(vm, rootContextId);
    vm.configuring = true;
    vm.call('proxy_on_context_create', rootContextId, rootContextId, 0);
    const started = vm.call('proxy_on_vm_start', rootContextId, rootContextId, this.vmConfiguration.length);
    if (vm.failed) throw new PluginLoadError(this.name, vm.failure);
    if (started === 0) throw new PluginLoadError(this.name, `proxy_on_vm_start returned false${this.errorsSince(vm, firstLog)}`);
    const configured = vm.call('proxy_on_configure', rootContextId, rootContextId, this.configuration.length);
    vm.configuring = false;
    if (vm.failed) throw new PluginLoadError(this.name, vm.failure);
    if (configured === 0) throw new PluginLoadError(this.name, `proxy_on_configure returned false${this.errorsSince(vm, firstLog)}`);
    return vm;
  }

  /** The module's own error logs, appended to a rejection so the reason is in one place. */
  private errorsSince(vm: WasmVm, firstLog: number): string {
    const messages = this.logs.entries.slice(firstLog)
      .filter((e) => e.plugin === this.name && e.vm === vm.label && (e.level === 'error' || e.level === 'critical'))
      .map((e) => e.message);
    return messages.length ? ` (the module logged: ${messages.join('; ')})` : '';
  }

  rootContextId(vm: WasmVm): number { return this.rootContextIds.get(vm) ?? 0; }

  /** Attributes a root context can read (attribute-lookup.ts resolves every attribute). */
  rootProperty(path: string[]): Uint8Array | undefined { return rootAttribute(this, path); }
}
