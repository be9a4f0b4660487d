// A differential scenario is data: a bootstrap (a shipped config, or plugins and routes from
// which one is generated), what each upstream cluster answers, a sequence of requests and what
// to compare. Files live in test/envoy/scenarios/<group>/<name>.yaml.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { DIST_DIR, ROOT } from '../../cli/paths.js';
import { BUILD_DIR } from '../support/compile.js';
import type { UpstreamBehaviour } from './upstream.js';
import { readBootstrap } from './bootstrap.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const SCENARIOS_DIR = join(ROOT, 'test', 'envoy', 'scenarios');

/** A header value or body chunk: text, or `{ hex }` bytes, or `{ repeat, times }`. */
export type ByteSpec = string | { hex: string } | { repeat: string; times: number };

export interface PluginEntry {
  /** A filter of dist/ by name, `fixture:<name>` for test/.build/<name>.wasm. */
  module: string;
  name?: string;
  root_id?: string;
  vm_id?: string;
  configuration?: unknown;
  fail_open?: boolean;
}

export interface RequestEntry {
  method?: string;
  path?: string;
  authority?: string;
  headers?: [string, ByteSpec][];
  body?: ByteSpec[];
  trailers?: [string, ByteSpec][];
  /** Send the same request this many times (each compared). */
  repeat?: number;
  /** Wait this long (real time in Envoy, virtual time in host-sim) before sending. */
  after_ms?: number;
  /** Sanity checks that hold in both hosts, so a scenario cannot agree on nothing. */
  expect?: { status?: number; headers?: Record<string, string>; body_contains?: string; upstream?: boolean };
}

export interface Scenario {
  id: string;
  file: string;
  description: string;
  /** A shipped bootstrap, relative to the repository. */
  config?: string;
  plugins?: PluginEntry[];
  /** Envoy route entries (generated bootstraps; default: everything to `backend`). */
  routes?: Json[];
  /** What each cluster answers; every cluster named here is a real server in the Envoy run. */
  clusters: Record<string, UpstreamBehaviour>;
  /** Extra top-level bootstrap fields (stats_config, ...). */
  bootstrap?: Json;
  requests: RequestEntry[];
  /** Metric name prefixes whose values are compared after the last request. */
  metrics?: string[];
  /** Compare the plugins' log lines (default true). */
  logs?: boolean;
  /** Set when the scenario shows a listed difference (host-sim/README.md, "Where it knowingly differs"). */
  known_difference?: string;
  /** Only the client response is compared statistically: the share of requests per upstream cluster. */
  split?: { cluster: string; share: number; tolerance: number };
}

export function bytesOf(spec: ByteSpec): Uint8Array {
  if (typeof spec === 'string') return new TextEncoder().encode(spec);
  if ('hex' in spec) return new Uint8Array(Buffer.from(spec.hex.replace(/\s+/g, ''), 'hex'));
  return new TextEncoder().encode(spec.repeat.repeat(spec.times));
}

export function moduleFile(module: string): string {
  if (module.startsWith('fixture:')) return join(BUILD_DIR, `${module.slice(8)}.wasm`);
  return join(DIST_DIR, `${module}.wasm`);
}

export function loadScenarios(dir = SCENARIOS_DIR): Scenario[] {
  const out: Scenario[] = [];
  for (const group of readdirSync(dir).sort()) {
    for (const file of readdirSync(join(dir, group)).filter((f) => f.endsWith('.yaml')).sort()) {
      const path = join(dir, group, file);
      const data = parse(readFileSync(path, 'utf8')) as Omit<Scenario, 'id' | 'file'>;
      out.push({ ...data, clusters: data.clusters ?? { backend: {} }, id: `${group}/${basename(file, '.yaml')}`, file: path });
    }
  }
  return out;
}

const router = { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } };

/** The bootstrap a scenario runs: its shipped config, or one generated from its plugins and routes. */
export function scenarioBootstrap(scenario: Scenario): Json {
  if (scenario.config) return readBootstrap(join(ROOT, scenario.config));
  const filters = (scenario.plugins ?? []).map((p) => ({
    name: 'envoy.filters.http.wasm',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm',
      config: {
        name: p.name ?? p.root_id ?? p.module,
        root_id: p.root_id ?? p.module,
        fail_open: p.fail_open ?? false,
        vm_config: { vm_id: p.vm_id ?? p.module, runtime: 'envoy.wasm.runtime.v8', code: { local: { filename: moduleFile(p.module) } } },
        ...(p.configuration === undefined ? {} : { configuration: {
          '@type': 'type.googleapis.com/google.protobuf.StringValue',
          value: typeof p.configuration === 'string' ? p.configuration : JSON.stringify(p.configuration),
        } }),
      },
    },
  }));
  const clusters = Object.keys(scenario.clusters).map((name) => ({ name, type: 'STATIC', connect_timeout: '1s', load_assignment: { cluster_name: name, endpoints: [] } }));
  return {
    ...(scenario.bootstrap ?? {}),
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [{
        name: 'ingress',
        address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
        filter_chains: [{ filters: [{
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
            stat_prefix: 'ingress_http',
            route_config: { name: 'local', virtual_hosts: [{ name: 'all', domains: ['*'], routes: scenario.routes ?? [{ match: { prefix: '/' }, route: { cluster: 'backend' } }] }] },
            http_filters: [...filters, router],
          },
        }] }],
      }],
      clusters,
    },
  };
}
