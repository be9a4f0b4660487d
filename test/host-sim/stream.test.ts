// One stream through the chain (host-sim/stream/): filter order, traps mid-stream, streams
// that stop.
import { describe, expect, it } from 'vitest';
import { filterModule, fixtureModule } from '../support/modules.js';
import { MALLOC, wat } from '../support/wat.js';
import { newHost } from '../support/hosts.js';


describe('filter chain', () => {
  it('runs filters in order on the request and in reverse on the response', async () => {
    const host = newHost({ clusters: { backend: () => ({ status: 200 }) } });
    host.addPlugin({ module: filterModule('add-header'), rootId: 'add-header', name: 'first',
      configuration: { request_headers: { 'x-order': 'first' }, response_headers: { 'x-order': 'first' } } });
    host.addPlugin({ module: filterModule('add-header'), rootId: 'add-header', name: 'second',
      configuration: { request_headers: { 'x-order': 'second' }, response_headers: { 'x-order': 'second' } } });
    const r = await host.request();
    // replace: the last writer wins. Requests meet "first" then "second"; responses the reverse.
    expect(r.upstream!.headers.filter(([k]) => k === 'x-order')).toEqual([['x-order', 'second']]);
    expect(r.headers.filter(([k]) => k === 'x-order')).toEqual([['x-order', 'first']]);
  });

  it('a local reply skips the filters after the sender and returns through those before it', async () => {
    const host = newHost({ clusters: { backend: () => ({ status: 200 }) } });
    host.addPlugin({ module: filterModule('add-header'), rootId: 'add-header', name: 'outer', configuration: { response_headers: { 'x-outer': 'seen' } } });
    host.addPlugin({ module: fixtureModule('sdk-probe'), rootId: 'probe' });
    host.addPlugin({ module: filterModule('add-header'), rootId: 'add-header', name: 'inner', configuration: { request_headers: { 'x-inner': 'seen' }, response_headers: { 'x-inner': 'seen' } } });
    const r = await host.request({ headers: { 'x-probe': 'deny' } });
    expect(r.status).toBe(418);
    expect(r.headers).toContainEqual(['x-outer', 'seen']);
    expect(r.headers.some(([k]) => k === 'x-inner')).toBe(false);
    expect(r.localReply!.plugin).toBe('probe');
  });
});

describe('traps mid-stream', () => {
  const trapping = async () => wat(`(module
    (memory (export "memory") 1) ${MALLOC}
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) unreachable))`);

  it('fail closed: this and later streams get 503 wasm_fail_stream', async () => {
    const host = newHost();
    host.addPlugin({ name: 'trapper', module: await trapping() });
    const first = await host.request();
    expect(first.status).toBe(503);
    expect(first.responseCodeDetails).toBe('wasm_fail_stream');
    expect(first.upstream).toBeDefined();
    const second = await host.request();
    expect(second.status).toBe(503);
    expect(second.upstream).toBeUndefined();
    expect(host.logs.messages('error')[0]).toMatch(/Function: proxy_on_response_headers failed: proxy_on_response_headers trapped: unreachable/);
  });

  it('fail open: streams pass as if the filter were absent', async () => {
    const host = newHost();
    host.addPlugin({ name: 'trapper', module: await trapping(), failOpen: true });
    expect((await host.request()).status).toBe(200);
    expect((await host.request()).status).toBe(200);
  });

  it('a trap fails only the VM of the worker it happened on', async () => {
    const host = newHost({ workers: 2 });
    host.addPlugin({ name: 'trap-once', module: await wat(`(module
      (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1) ${MALLOC}
      (data (i32.const 100) "x-trap")
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (if (i32.eqz (call $get (i32.const 0) (i32.const 100) (i32.const 6) (i32.const 300) (i32.const 304))) (then unreachable))
        (i32.const 0)))`) });
    expect((await host.request({ worker: 0, headers: { 'x-trap': '1' } })).status).toBe(503);
    expect((await host.request({ worker: 0 })).status).toBe(503);
    expect((await host.request({ worker: 1 })).status).toBe(200);
  });
});

describe('streams that stop', () => {
  it('reports a stream whose filter stops and never continues as stalled, without hanging', async () => {
    const host = newHost();
    host.addPlugin({ name: 'stopper', module: await wat(`(module
      (memory (export "memory") 1) ${MALLOC}
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (i32.const 1)))`) });
    const r = await host.request();
    expect(r.status).toBe(0);
    expect(r.stalled).toMatchObject({ plugin: 'stopper', direction: 'request', phase: 'headers' });
    expect(r.stalled!.description).toMatch(/stopped at request headers and nothing is left that could continue it/);
    expect(r.upstream).toBeUndefined();
  });
});
