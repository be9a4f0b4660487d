// The contract with Envoy: what its Proxy-Wasm host (proxy-wasm-cpp-host) provides and
// requires, read from contract/proxy-wasm-host.json. host-sim links modules against it and
// the module check verifies modules against it, so both agree with Envoy by construction.
import type { FuncType, ValType } from './wasm/binary.js';
import contract from './contract/proxy-wasm-host.json' with { type: 'json' };

export type AbiVersion = '0.1.0' | '0.2.0' | '0.2.1';
export const ABI_VERSIONS: AbiVersion[] = ['0.1.0', '0.2.0', '0.2.1'];

export interface HostImport {
  module: string;
  name: string;
  type: FuncType;
  abi: AbiVersion[];
  /** WASI tier: T1 in every Envoy since 1.21, T2 since early 2026, T3 only in the newest. */
  tier?: 'T1' | 'T2' | 'T3';
  allowedDuringStart: boolean;
  envoySpecific: boolean;
}

export interface CalledExport {
  name: string;
  type: FuncType | null;
  abi: AbiVersion[];
}

interface RawImport {
  module: string; name: string; params: string[]; results: string[]; abi: string[];
  tier?: string; allowed_during_start_functions?: boolean; envoy_specific?: boolean;
}
interface RawExport { name: string; params: string[] | null; results: string[] | null; abi: string[]; envoy_specific?: boolean }

const raw = contract as unknown as {
  imports: RawImport[]; exports_called: RawExport[]; abi_versions: { version: AbiVersion; marker_export: string }[];
  limits: { max_memory_bytes: number };
};

/** The most linear memory Envoy lets a module have. */
export const MAX_MEMORY_BYTES = raw.limits.max_memory_bytes;

export const HOST_IMPORTS: HostImport[] = raw.imports.map((i) => ({
  module: i.module,
  name: i.name,
  type: { params: i.params as ValType[], results: i.results as ValType[] },
  abi: i.abi as AbiVersion[],
  tier: i.tier as HostImport['tier'],
  allowedDuringStart: i.allowed_during_start_functions === true,
  envoySpecific: i.envoy_specific === true,
}));

export const CALLED_EXPORTS: CalledExport[] = raw.exports_called.map((e) => ({
  name: e.name,
  type: e.params === null ? null : { params: e.params as ValType[], results: (e.results ?? []) as ValType[] },
  abi: e.abi as AbiVersion[],
}));

export const ABI_MARKERS: Record<string, AbiVersion> = Object.fromEntries(
  raw.abi_versions.map((v) => [v.marker_export, v.version]));

/** The host import `module.name` as Envoy provides it to a module of ABI `abi`. */
export function hostImport(abi: AbiVersion, module: string, name: string): HostImport | undefined {
  return HOST_IMPORTS.find((i) => i.module === module && i.name === name && i.abi.includes(abi));
}

/** The ABI a module declares through its first proxy_abi_version_* function export, as Envoy reads it. */
export function detectAbi(exports: { name: string; kind: string }[]): AbiVersion | undefined {
  for (const e of exports) {
    if (e.kind === 'func' && e.name in ABI_MARKERS) return ABI_MARKERS[e.name];
  }
  return undefined;
}

/** The signature Envoy expects of the exported callback `name` under `abi`, if it looks it up. */
export function expectedExport(abi: AbiVersion, name: string): CalledExport | undefined {
  return CALLED_EXPORTS.find((e) => e.name === name && e.abi.includes(abi) && e.type !== null);
}

export function formatWasmType(t: FuncType): string {
  return `${t.results.length ? t.results.join(', ') : 'void'}(${t.params.join(', ')})`;
}
