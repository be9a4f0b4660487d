// host-sim's host functions (host-sim/host-functions/), each rule exercised by a hand-written
// module: WASI, timers, queues, memory, maps and buffers, metrics, shared data, http_call.
import { describe, expect, it } from 'vitest';
import { MALLOC, wat } from '../support/wat.js';
import { newHost } from '../support/hosts.js';


/** Adds response header `name` = one ASCII digit per value (the low decimal digit). */
const REPORT = `
  (func $digit (param $v i32) (result i32) (i32.add (i32.const 48) (i32.rem_u (local.get $v) (i32.const 10))))`;

describe('WASI as Envoy provides it', () => {
  it('fd_write to stdout and stderr become info and error logs; proc_exit logs and returns', async () => {
    const host = newHost();
    host.addPlugin({ name: 'wasi', module: await wat(`(module
      (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1) ${MALLOC}
      (data (i32.const 100) "to stdout\\n")
      (data (i32.const 120) "to stderr\\n")
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (i32.store (i32.const 200) (i32.const 100)) (i32.store (i32.const 204) (i32.const 10))
        (drop (call $write (i32.const 1) (i32.const 200) (i32.const 1) (i32.const 240)))
        (i32.store (i32.const 200) (i32.const 120))
        (drop (call $write (i32.const 2) (i32.const 200) (i32.const 1) (i32.const 240)))
        (call $exit (i32.const 3))
        (i32.const 0)))`) });
    expect((await host.request()).status).toBe(200);
    expect(host.logs.messages('info')).toContain('to stdout');
    expect(host.logs.messages('error')).toContain('to stderr');
    expect(host.logs.messages('debug')).toContain('wasi proc_exit(3)');   // Envoy says nothing above debug
  });

  it('clock_time_get follows the virtual clock; random_get refuses more than 64 KiB', async () => {
    const host = newHost();
    host.addPlugin({ name: 'clock', module: await wat(`(module
      (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
      (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
      (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 3) ${MALLOC} ${REPORT}
      (data (i32.const 100) "x-seconds")
      (data (i32.const 120) "x-random")
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $clock (i32.const 0) (i64.const 0) (i32.const 300)))
        ;; seconds since the epoch, last digit
        (i32.store8 (i32.const 400) (call $digit (i32.wrap_i64 (i64.div_u (i64.load (i32.const 300)) (i64.const 1000000000)))))
        (drop (call $add (i32.const 0) (i32.const 100) (i32.const 9) (i32.const 400) (i32.const 1)))
        (i32.store8 (i32.const 401) (i32.add (i32.const 48) (i32.div_u (call $random (i32.const 1024) (i32.const 65537)) (i32.const 10))))
        (i32.store8 (i32.const 402) (i32.add (i32.const 48) (i32.rem_u (call $random (i32.const 1024) (i32.const 65537)) (i32.const 10))))
        (drop (call $add (i32.const 0) (i32.const 120) (i32.const 8) (i32.const 401) (i32.const 2)))
        (i32.const 0))
      (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (i32.const 0)))`) });
    await host.advance(7_000);
    const r = await host.request();
    // 2026-01-01T00:00:07Z is 1767225607 s since the epoch.
    expect(r.upstream!.headers).toContainEqual(['x-seconds', '7']);
    expect(r.upstream!.headers).toContainEqual(['x-random', '28']);
  });
});

describe('timers and queues', () => {
  it('lets on_tick stop the timer', async () => {
    const host = newHost();
    host.addPlugin({ name: 'once', module: await wat(`(module
      (import "env" "proxy_set_tick_period_milliseconds" (func $period (param i32) (result i32)))
      (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
      (memory (export "memory") 1) ${MALLOC}
      (data (i32.const 100) "tick")
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (drop (call $period (i32.const 100))) (i32.const 1))
      (func (export "proxy_on_tick") (param i32)
        (drop (call $log (i32.const 2) (i32.const 100) (i32.const 4)))
        (drop (call $period (i32.const 0)))))`) });
    await host.advance(1_000);
    expect(host.logs.messages('info')).toEqual(['tick', 'tick']);   // once on the main thread's VM, once on the worker's
  });

  it('delivers on_queue_ready after the enqueuing call returns, never inside it', async () => {
    const host = newHost();
    host.addPlugin({ name: 'queue', module: await wat(`(module
      (import "env" "proxy_register_shared_queue" (func $register (param i32 i32 i32) (result i32)))
      (import "env" "proxy_enqueue_shared_queue" (func $enqueue (param i32 i32 i32) (result i32)))
      (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
      (memory (export "memory") 1) ${MALLOC}
      (data (i32.const 100) "q")
      (data (i32.const 110) "before")
      (data (i32.const 120) "after")
      (data (i32.const 130) "ready")
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (drop (call $register (i32.const 100) (i32.const 1) (i32.const 200))) (i32.const 1))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $log (i32.const 2) (i32.const 110) (i32.const 6)))
        (drop (call $enqueue (i32.load (i32.const 200)) (i32.const 100) (i32.const 1)))
        (drop (call $log (i32.const 2) (i32.const 120) (i32.const 5)))
        (i32.const 0))
      (func (export "proxy_on_queue_ready") (param i32 i32) (drop (call $log (i32.const 2) (i32.const 130) (i32.const 5)))))`) });
    await host.request();
    await host.idle();
    expect(host.logs.messages('info')).toEqual(['before', 'after', 'ready']);
  });
});

describe('memory, maps and buffers', () => {
  it('answers a pointer outside memory with InvalidMemoryAccess instead of trapping', async () => {
    const host = newHost();
    host.addPlugin({ name: 'badptr', module: await wat(`(module
      (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
      (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1) ${MALLOC}
      (data (i32.const 100) "x-result")
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (i32.store8 (i32.const 200) (i32.add (i32.const 48) (call $log (i32.const 2) (i32.const 65530) (i32.const 100))))
        (drop (call $add (i32.const 0) (i32.const 100) (i32.const 8) (i32.const 200) (i32.const 1)))
        (i32.const 0)))`) });
    const r = await host.request();
    expect(r.upstream!.headers).toContainEqual(['x-result', '6']);
    expect(host.plugins[0].vms[0].failed).toBe(false);
  });

  it('makes every map read-only in on_log', async () => {
    const host = newHost();
    host.addPlugin({ name: 'logwriter', module: await wat(`(module
      (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
      (memory (export "memory") 1) ${MALLOC}
      (data (i32.const 100) "x-from-log")
      (data (i32.const 120) ":path")
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_log") (param i32)
        (i32.store8 (i32.const 200) (i32.add (i32.const 48) (call $add (i32.const 2) (i32.const 100) (i32.const 10) (i32.const 100) (i32.const 1))))
        (i32.store8 (i32.const 201) (i32.add (i32.const 48) (call $get (i32.const 0) (i32.const 120) (i32.const 5) (i32.const 300) (i32.const 304))))
        (drop (call $log (i32.const 2) (i32.const 200) (i32.const 2)))))`) });
    const r = await host.request();
    // add -> BadArgument (2); reading :path -> Ok (0).
    expect(host.logs.messages('info')).toEqual(['20']);
    expect(r.headers.some(([k]) => k === 'x-from-log')).toBe(false);
  });

  it('set_buffer_bytes at 0 replaces that many leading bytes', async () => {
    const host = newHost();
    host.addPlugin({ name: 'prefix', module: await wat(`(module
      (import "env" "proxy_set_buffer_bytes" (func $set (param i32 i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1) ${MALLOC}
      (data (i32.const 100) "XY")
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_request_body") (param i32 i32 i32) (result i32)
        (drop (call $set (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 100) (i32.const 2)))
        (i32.const 0)))`) });
    // Over HTTP/2 the last chunk ends the stream (HTTP/1 adds an empty end-of-stream call).
    const r = await host.request({ method: 'POST', body: 'abc', protocol: 'HTTP/2' });
    expect(new TextDecoder().decode(r.upstream!.body)).toBe('XYbc');
  });

  it('keeps request.* attributes only while the filter holds the request headers', async () => {
    const host = newHost();
    host.addPlugin({ name: 'late', module: await wat(`(module
      (import "env" "proxy_get_property" (func $prop (param i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
      (memory (export "memory") 1) ${MALLOC}
      (data (i32.const 100) "request\\00path")
      (func (export "proxy_abi_version_0_2_1"))
      (func $report (i32.store8 (i32.const 200) (i32.add (i32.const 48) (call $prop (i32.const 100) (i32.const 12) (i32.const 300) (i32.const 304))))
        (drop (call $log (i32.const 2) (i32.const 200) (i32.const 1))))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (call $report) (i32.const 0))
      (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32) (call $report) (i32.const 0))
      (func (export "proxy_on_log") (param i32) (call $report)))`) });
    await host.request();
    // Ok in on_request_headers, NotFound in on_response_headers, Ok again in on_log.
    expect(host.logs.messages('info')).toEqual(['0', '1', '0']);
  });
});

describe('metrics, plugins and shared data', () => {
  it('adds to a counter on record and refuses to read a histogram', async () => {
    const host = newHost();
    host.addPlugin({ name: 'metrics', module: await wat(`(module
      (import "env" "proxy_define_metric" (func $define (param i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_record_metric" (func $record (param i32 i64) (result i32)))
      (import "env" "proxy_get_metric" (func $get (param i32 i32) (result i32)))
      (import "env" "proxy_log" (func $log (param i32 i32 i32) (result i32)))
      (memory (export "memory") 1) ${MALLOC}
      (data (i32.const 100) "c")
      (data (i32.const 110) "h")
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $define (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))
        (drop (call $define (i32.const 2) (i32.const 110) (i32.const 1) (i32.const 204)))
        (drop (call $record (i32.load (i32.const 200)) (i64.const 5)))
        (drop (call $record (i32.load (i32.const 200)) (i64.const 5)))
        (i32.store8 (i32.const 300) (i32.add (i32.const 48) (call $get (i32.load (i32.const 204)) (i32.const 400))))
        (drop (call $log (i32.const 2) (i32.const 300) (i32.const 1)))
        (i32.const 0)))`) });
    await host.request();
    expect(host.metrics.value('c')).toBe(10);
    expect(host.logs.messages('info')).toEqual(['2']);
  });

  it('rejects a plugin whose vm_start returns false', async () => {
    const host = newHost();
    const load = async () => host.addPlugin({ name: 'nostart', module: await wat(`(module
      (memory (export "memory") 1) ${MALLOC} (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 0)))`) });
    await expect(load()).rejects.toThrow('Unable to create Wasm plugin nostart: proxy_on_vm_start returned false');
  });

  it('separates shared data by vm_id', async () => {
    const host = newHost();
    const writer = await wat(`(module
      (import "env" "proxy_set_shared_data" (func $set (param i32 i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1) ${MALLOC}
      (data (i32.const 100) "k")
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (drop (call $set (i32.const 100) (i32.const 1) (i32.const 100) (i32.const 1) (i32.const 0))) (i32.const 1)))`);
    host.addPlugin({ name: 'a', vmId: 'vm-a', module: writer });
    expect(host.shared.get('vm-a', 'k')).toBeDefined();
    expect(host.shared.get('vm-b', 'k')).toBeUndefined();
  });

  it('provides a memory to a module that imports one, as V8 does', async () => {
    const host = newHost();
    host.addPlugin({ name: 'importer', module: await wat(`(module
      (import "env" "memory" (memory 1))
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "malloc") (param i32) (result i32) (i32.const 1024)))`) });
    expect((await host.request()).status).toBe(200);
  });
});
describe('shared data', () => {
  it('rejects a write with a stale CAS and accepts the current one', async () => {
    // On each request: set k unconditionally, read its cas, write with a cas no write had, then with the one read.
    const host = newHost();
    host.addPlugin({ name: 'cas', module: await wat(`(module
      (import "env" "proxy_set_shared_data" (func $set (param i32 i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_get_shared_data" (func $get (param i32 i32 i32 i32 i32) (result i32)))
      (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1) ${MALLOC}
      (data (i32.const 100) "k")
      (data (i32.const 110) "x-stale")
      (data (i32.const 120) "x-fresh")
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
        (drop (call $set (i32.const 100) (i32.const 1) (i32.const 100) (i32.const 1) (i32.const 0)))
        (drop (call $get (i32.const 100) (i32.const 1) (i32.const 300) (i32.const 304) (i32.const 308)))
        (i32.store8 (i32.const 200) (i32.add (i32.const 48)
          (call $set (i32.const 100) (i32.const 1) (i32.const 100) (i32.const 1) (i32.add (i32.load (i32.const 308)) (i32.const 1000)))))
        (i32.store8 (i32.const 201) (i32.add (i32.const 48)
          (call $set (i32.const 100) (i32.const 1) (i32.const 100) (i32.const 1) (i32.load (i32.const 308)))))
        (drop (call $add (i32.const 0) (i32.const 110) (i32.const 7) (i32.const 200) (i32.const 1)))
        (drop (call $add (i32.const 0) (i32.const 120) (i32.const 7) (i32.const 201) (i32.const 1)))
        (i32.const 0)))`) });
    const r = await host.request();
    expect(r.upstream!.headers).toContainEqual(['x-stale', '8']);
    expect(r.upstream!.headers).toContainEqual(['x-fresh', '0']);
    expect(host.shared.get('', 'k')!.cas).toBeGreaterThan(1);
  });
});

describe('http_call', () => {
  // Calls http_call to cluster "auth" with the headers at 400 (a pairs buffer) and reports the
  // result as x-call-result.
  const caller = (pairs: string, size: number) => wat(`(module
    (import "env" "proxy_http_call" (func $call (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
    (import "env" "proxy_add_header_map_value" (func $add (param i32 i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1) ${MALLOC}
    (data (i32.const 100) "auth")
    (data (i32.const 120) "x-call-result")
    (data (i32.const 400) "${pairs}")
    (func (export "proxy_abi_version_0_2_1"))
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (i32.store8 (i32.const 200) (i32.add (i32.const 48)
        (call $call (i32.const 100) (i32.const 4) (i32.const 400) (i32.const ${size}) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 1000) (i32.const 300))))
      (drop (call $add (i32.const 0) (i32.const 120) (i32.const 13) (i32.const 200) (i32.const 1)))
      (i32.const 0)))`);
  const le = (n: number) => [n, 0, 0, 0].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
  const pairs = (entries: [string, string][]) => {
    let text = le(entries.length);
    for (const [k, v] of entries) text += le(k.length) + le(v.length);
    for (const [k, v] of entries) text += `${k}\\00${v}\\00`;
    const size = 4 + entries.length * 8 + entries.reduce((n, [k, v]) => n + k.length + v.length + 2, 0);
    return { text, size };
  };

  it('requires :method, :path and :authority (BadArgument without :authority)', async () => {
    const host = newHost({ clusters: { backend: () => ({ status: 200 }), auth: () => ({ status: 200 }) } });
    const without = pairs([[':method', 'GET'], [':path', '/auth']]);
    host.addPlugin({ name: 'no-authority', module: await caller(without.text, without.size) });
    const r = await host.request();
    expect(r.upstream!.headers).toContainEqual(['x-call-result', '2']);
    expect(host.callouts).toEqual([]);
  });

  it('accepts a call with all three and records it', async () => {
    const host = newHost({ clusters: { backend: () => ({ status: 200 }), auth: () => ({ status: 200 }) } });
    const full = pairs([[':method', 'GET'], [':path', '/auth'], [':authority', 'auth']]);
    host.addPlugin({ name: 'caller', module: await caller(full.text, full.size) });
    const r = await host.request();
    expect(r.upstream!.headers).toContainEqual(['x-call-result', '0']);
    expect(host.callouts[0]).toMatchObject({ kind: 'http', cluster: 'auth', token: 4 });
  });
});

