// The host contract: host-sim and the SDK agree with what Envoy's host provides and calls.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../cli/build.js';
import * as abi from '../host-sim/abi.js';
import { CALLED_EXPORTS, HOST_IMPORTS } from '../host-sim/contract.js';
import { hostFunctions } from '../host-sim/host-functions/index.js';
import { wasiFunctions } from '../host-sim/host-functions/wasi.js';
import { parseModule, sameType } from '../host-sim/wasm/binary.js';
import { Host } from '../host-sim/index.js';
import type { WasmVm } from '../host-sim/vm.js';
import { filterModule } from './support/modules.js';

/** The contract's enums, by name (the JSON's keys carry notes after the name). */
function contractEnums(): Record<string, Record<string, number>> {
  const contract = JSON.parse(readFileSync(join(ROOT, 'host-sim', 'contract', 'proxy-wasm-host.json'), 'utf8')) as { enums: Record<string, Record<string, number>> };
  const out: Record<string, Record<string, number>> = {};
  for (const [key, values] of Object.entries(contract.enums)) {
    out[key.split(' ')[0]] = values;
    const alias = /a\.k\.a\. (\w+)/.exec(key);
    if (alias) out[alias[1]] = values;
  }
  return out;
}

/** assembly/enums.ts's `export enum XValues { a = 0, ... }`, by X. */
function sdkEnums(): Record<string, Record<string, number>> {
  const text = readFileSync(join(ROOT, 'assembly', 'enums.ts'), 'utf8').replace(/\/\*\*[\s\S]*?\*\//g, '');
  const out: Record<string, Record<string, number>> = {};
  for (const m of text.matchAll(/export enum (\w+)Values \{([^}]*)\}/g)) {
    out[m[1]] = Object.fromEntries([...m[2].matchAll(/(\w+) = (\d+)/g)].map(([, k, v]) => [k, Number(v)]));
  }
  return out;
}

describe('host contract', () => {
  it('the SDK\'s and host-sim\'s ABI enums hold the contract\'s values', () => {
    const contract = contractEnums();
    const sdk = sdkEnums();
    const hostSim: Record<string, Record<string, number>> = {
      WasmResult: abi.WasmResult, HeaderMapType: abi.HeaderMapType, BufferType: abi.BufferType, FilterHeadersStatus: abi.FilterHeadersStatus,
      FilterDataStatus: abi.FilterDataStatus, FilterTrailersStatus: abi.FilterTrailersStatus, StreamType: abi.StreamType, LogLevel: abi.LogLevel,
      MetricType: abi.MetricType, GrpcStatus: abi.GrpcStatus,
    };
    expect(Object.keys(sdk).length).toBeGreaterThan(10);
    const differ: string[] = [];
    for (const [side, enums] of [['assembly/enums.ts', sdk], ['host-sim/abi.ts', hostSim]] as const) {
      for (const [name, members] of Object.entries(enums)) {
        if (!contract[name]) { differ.push(`${side}: ${name} is not in the contract`); continue; }
        for (const [member, value] of Object.entries(members)) {
          if (contract[name][member] !== value) differ.push(`${side}: ${name}.${member} = ${value}, the contract says ${contract[name][member]}`);
        }
      }
    }
    expect(differ).toEqual([]);
  });

  const shared = join(ROOT, '..', 'shared', 'envoy-host', 'proxy-wasm-host.json');
  it.runIf(existsSync(shared))('the vendored copy equals ../shared/envoy-host/proxy-wasm-host.json', () => {
    expect(readFileSync(join(ROOT, 'host-sim', 'contract', 'proxy-wasm-host.json'), 'utf8')).toBe(readFileSync(shared, 'utf8'));
  });

  it('host-sim implements every env function of ABI 0.1.0, 0.2.0 and 0.2.1', () => {
    const host = new Host();
    const implemented = hostFunctions({} as WasmVm, host.services, { wakeQueue: () => {} });
    const missing = HOST_IMPORTS.filter((i) => i.module === 'env' && !(i.name in implemented)).map((i) => i.name);
    expect(missing).toEqual([]);
  });

  it('host-sim implements every tier-T1 WASI function with its own behaviour', () => {
    const wasi = wasiFunctions({} as WasmVm, new Host().services, {});
    const t1 = HOST_IMPORTS.filter((i) => i.module === 'wasi_snapshot_preview1' && i.tier === 'T1').map((i) => i.name);
    expect(t1).toHaveLength(15);
    expect(t1.filter((name) => !(name in wasi))).toEqual([]);
  });
});

describe('SDK surface', () => {
  const module = parseModule(readFileSync(filterModule('add-header')));

  it('exports the ABI 0.2.1 marker, both allocators and every callback Envoy calls, with its exact signature', () => {
    const exported = new Map(module.exports.filter((e) => e.kind === 'func').map((e) => [e.name, e.type]));
    expect(exported.has('proxy_abi_version_0_2_1')).toBe(true);
    expect(sameType(exported.get('malloc'), { params: ['i32'], results: ['i32'] })).toBe(true);
    expect(sameType(exported.get('proxy_on_memory_allocate'), { params: ['i32'], results: ['i32'] })).toBe(true);
    expect(module.exports.some((e) => e.kind === 'memory')).toBe(true);
    const callbacks = CALLED_EXPORTS.filter((e) => e.abi.includes('0.2.1') && e.type && e.name.startsWith('proxy_on_'));
    expect(callbacks.length).toBeGreaterThan(25);
    for (const callback of callbacks) {
      expect(exported.has(callback.name), `${callback.name} is exported`).toBe(true);
      expect(sameType(exported.get(callback.name), callback.type!), `${callback.name} signature`).toBe(true);
    }
  });

  it('imports nothing but Envoy host functions: no env.abort, env.seed, env.trace or Date.now', () => {
    for (const imp of module.imports) {
      const host = HOST_IMPORTS.find((h) => h.module === imp.module && h.name === imp.name && h.abi.includes('0.2.1'));
      expect(host, `${imp.module}.${imp.name}`).toBeDefined();
      expect(host!.tier ?? 'T1').toBe('T1');
    }
    expect(module.start).toBeUndefined();
    expect(module.exports.some((e) => e.name === '_initialize')).toBe(true);
  });

  it('declares every env host function of ABI 0.2.1 with the contract\'s signature', () => {
    const source = readFileSync(join(ROOT, 'assembly', 'internal', 'imports.ts'), 'utf8');
    const declared = new Map<string, number>();
    for (const m of source.matchAll(/@external\("env", "(\w+)"\)\s*export declare function \w+\(([^)]*)\)/g)) {
      declared.set(m[1], m[2].trim() === '' ? 0 : m[2].split(',').length);
    }
    const wanted = HOST_IMPORTS.filter((i) => i.module === 'env' && i.name.startsWith('proxy_') && i.abi.includes('0.2.1'));
    for (const w of wanted) {
      expect(declared.get(w.name), w.name).toBe(w.type.params.length);
    }
  });
});
