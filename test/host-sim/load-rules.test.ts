// How host-sim loads a plugin as Envoy does: ABI versions, linking by the load rules, start functions.
import { describe, expect, it } from 'vitest';
import { PluginLoadError } from '../../host-sim/index.js';
import { MALLOC, wat } from '../support/wat.js';
import { newHost } from '../support/hosts.js';



/** Reports the result of get_header_map_value on a missing key as response header x-get-result. */
function missingHeaderModule(abi: '0_1_0' | '0_2_1'): string {
  const params = abi === '0_1_0' ? '(param i32 i32)' : '(param i32 i32 i32)';
  return `(module
    (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 100) "x-missing")
    (data (i32.const 120) "x-get-result")
    ${MALLOC}
    (func (export "proxy_abi_version_${abi}"))
    (func (export "proxy_on_request_headers") ${params} (result i32)
      (i32.store8 (i32.const 200) (i32.add (i32.const 48)
        (call $get (i32.const 0) (i32.const 100) (i32.const 9) (i32.const 300) (i32.const 304))))
      (drop (call $add (i32.const 0) (i32.const 120) (i32.const 12) (i32.const 200) (i32.const 1)))
      (i32.const 0)))`;
}

describe('ABI versions', () => {
  it('detects 0.1.0 from the marker and answers a missing header with Ok and an empty value', async () => {
    const host = newHost();
    const plugin = host.addPlugin({ module: await wat(missingHeaderModule('0_1_0')), name: 'abi010' });
    expect(plugin.abi).toBe('0.1.0');
    const r = await host.request();
    expect(r.upstream!.headers).toContainEqual(['x-get-result', '0']);
  });

  it('answers the same call with NotFound under 0.2.1', async () => {
    const host = newHost();
    const plugin = host.addPlugin({ module: await wat(missingHeaderModule('0_2_1')), name: 'abi021' });
    expect(plugin.abi).toBe('0.2.1');
    const r = await host.request();
    expect(r.upstream!.headers).toContainEqual(['x-get-result', '1']);
  });

  it('links proxy_get_configuration and proxy_continue_request only for 0.1.0', async () => {
    const importing = (abi: string) => `(module
      (import "env" "proxy_get_configuration" (func (param i32 i32) (result i32)))
      (import "env" "proxy_continue_request" (func (result i32)))
      (memory (export "memory") 1) ${MALLOC}
      (func (export "proxy_abi_version_${abi}")))`;
    const host = newHost();
    expect(() => host.addPlugin({ module: new Uint8Array(0), name: 'x' })).toThrow(PluginLoadError);
    host.addPlugin({ module: await wat(importing('0_1_0')), name: 'old' });
    const load = async () => host.addPlugin({ module: await wat(importing('0_2_1')), name: 'new' });
    await expect(load()).rejects.toThrow('Unable to create Wasm plugin new: Failed to load Wasm module due to a missing import: env.proxy_get_configuration');
  });

  it('rejects a module without an ABI marker', async () => {
    const host = newHost();
    const load = async () => host.addPlugin({ module: await wat(`(module (memory (export "memory") 1) ${MALLOC})`), name: 'nomarker' });
    await expect(load()).rejects.toThrow('Unable to create Wasm plugin nomarker: Missing or unknown Proxy-Wasm ABI version');
  });
});

describe('linking', () => {
  it('uses Envoy\'s wording for an import type mismatch', async () => {
    const host = newHost();
    const load = async () => host.addPlugin({ name: 'mismatch', module: await wat(`(module
      (import "env" "proxy_log" (func (param i32 i32) (result i32)))
      (memory (export "memory") 1) ${MALLOC} (func (export "proxy_abi_version_0_2_1")))`) });
    await expect(load()).rejects.toThrow('Failed to load Wasm module due to an import type mismatch: env.proxy_log, want: i32(i32, i32), but host exports: i32(i32, i32, i32)');
  });

  it('rejects a callback exported with the wrong signature', async () => {
    const host = newHost();
    const load = async () => host.addPlugin({ name: 'badsig', module: await wat(`(module
      (memory (export "memory") 1) ${MALLOC} (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_request_headers") (param i32 i32) (result i32) (i32.const 0)))`) });
    await expect(load()).rejects.toThrow('Unable to create Wasm plugin badsig: Bad function signature for: proxy_on_request_headers');
  });

  it('rejects a module without an allocator', async () => {
    const host = newHost();
    const load = async () => host.addPlugin({ name: 'nomalloc', module: await wat(`(module
      (memory (export "memory") 1) (func (export "proxy_abi_version_0_2_1")))`) });
    await expect(load()).rejects.toThrow('Wasm module is missing malloc function.');
  });

  it('rejects bytes that are not a module, and a file that does not exist', () => {
    const host = newHost();
    expect(() => host.addPlugin({ name: 'text', module: new TextEncoder().encode('not wasm') }))
      .toThrow('Unable to create Wasm plugin text: Failed to load Wasm code: not a WebAssembly module');
    expect(() => host.addPlugin({ module: '/nonexistent/filter.wasm' }))
      .toThrow(/Unable to create Wasm plugin filter: cannot read the module \/nonexistent\/filter\.wasm: ENOENT/);
  });
});

describe('start functions', () => {
  const logging = (entry: string, calls: string) => `(module
    (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
    (import "env" "proxy_get_property" (func $prop (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1) ${MALLOC}
    (data (i32.const 100) "initializemain  start     ")
    (func (export "proxy_abi_version_0_2_1"))
    ${entry}
    (func $calls ${calls}))`;

  it('runs _initialize then main(0, 0), allowing proxy_log', async () => {
    const host = newHost();
    host.addPlugin({ name: 'reactor', module: await wat(logging(`
      (func (export "_initialize") (drop (call $log (i32.const 2) (i32.const 100) (i32.const 10))))
      (func (export "main") (param i32 i32) (result i32) (drop (call $log (i32.const 2) (i32.const 110) (i32.const 4))) (i32.const 0))`, '')) });
    // base, canary and one worker each start the module.
    // base, canary, main thread, one worker
    expect(host.logs.messages('info')).toEqual(['initialize', 'main', 'initialize', 'main', 'initialize', 'main', 'initialize', 'main']);
  });

  it('runs _start when there is no _initialize', async () => {
    const host = newHost();
    host.addPlugin({ name: 'command', module: await wat(logging(`
      (func (export "_start") (drop (call $log (i32.const 2) (i32.const 116) (i32.const 5))))`, '')) });
    expect(host.logs.messages('info')).toEqual(['start', 'start', 'start', 'start']);
  });

  it('traps a start function that calls anything but proxy_log and WASI (restricted_callback)', async () => {
    const host = newHost();
    const load = async () => host.addPlugin({ name: 'eager', module: await wat(logging(`
      (func (export "_initialize") (drop (call $prop (i32.const 100) (i32.const 4) (i32.const 300) (i32.const 304))))`, '')) });
    await expect(load()).rejects.toThrow(/Unable to create Wasm plugin eager: _initialize trapped: restricted_callback: proxy_get_property/);
  });

  it('fails a module whose start section calls the host while instantiating', async () => {
    const host = newHost();
    const load = async () => host.addPlugin({ name: 'startsection', module: await wat(logging(`
      (func $s (drop (call $log (i32.const 2) (i32.const 100) (i32.const 4)))) (start $s)`, '')) });
    await expect(load()).rejects.toThrow(/startsection: the module's start section trapped while instantiating: proxy_log called from the module's start section/);
  });
});

