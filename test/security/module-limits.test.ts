// A module that loops forever or grows its memory without end must fail its test in bounded
// time with a clear error, not hang the test run: calls are stopped at host-sim's time limit
// (by the work budget compiled into the module, by the clock on host calls, or by the vm timer
// for a module the budget rewrite does not know), and linear memory stops at Envoy's 1 GiB
// (memory.grow fails, as in Envoy's V8).
import { describe, expect, it } from 'vitest';
import { Host, ModuleTimeoutError } from '../../host-sim/index.js';
import { MALLOC, wat } from '../support/wat.js';
import { closeAfterTest } from '../support/hosts.js';


/** A filter whose request-headers callback runs `body` (WAT instructions leaving nothing). */
const filter = (body: string, extra = '') => `(module
  (import "env" "proxy_get_current_time_nanoseconds" (func $now (param i32) (result i32)))
  (memory (export "memory") 1)
  ${MALLOC}
  ${extra}
  (func (export "proxy_abi_version_0_2_1"))
  (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) ${body} (i32.const 0)))`;

/** Requests through `module` with a 300 ms limit: the error and how long it took to come. */
async function stopped(module: Uint8Array): Promise<{ error: unknown; ms: number; host: Host }> {
  const host = new Host({ callTimeLimitMs: 300 });
  closeAfterTest(host);
  host.addPlugin({ module, name: 'spinner' });
  const started = Date.now();
  const error = await host.request().then(() => undefined, (e: unknown) => e);
  return { error, ms: Date.now() - started, host };
}

describe('module limits', () => {
  it('stops a call that loops forever, fails the VM and names the callback, within the limit', async () => {
    const host = new Host({ callTimeLimitMs: 300 });
    closeAfterTest(host);
    host.addPlugin({ module: await wat(filter('(loop $forever (br $forever))')), name: 'spinner' });
    const started = Date.now();
    const error = await host.request().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ModuleTimeoutError);
    expect(String(error)).toMatch(/proxy_on_request_headers of spinner \(worker 0\) ran longer than 300 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(host.plugins[0].vms[0].failed).toBe(true);
    // The failed VM now fails its streams closed, as Envoy does.
    expect((await host.request()).status).toBe(503);
  });

  it('stops a loop that only calls the host (it spends little budget: the clock stops it)', async () => {
    const { error, ms, host } = await stopped(await wat(filter('(loop $forever (drop (call $now (i32.const 64))) (br $forever))')));
    expect(error).toBeInstanceOf(ModuleTimeoutError);
    expect(String(error)).toMatch(/proxy_on_request_headers of spinner \(worker 0\) ran longer than 300 ms/);
    expect(ms).toBeLessThan(5_000);
    expect(host.plugins[0].vms[0].failed).toBe(true);
  });

  it('stops a loop in a module the budget rewrite does not know (an atomic instruction) with the vm timer', async () => {
    const module = await wat(filter('(atomic.fence) (loop $forever (br $forever))'));
    const { error, ms } = await stopped(module);
    expect(error).toBeInstanceOf(ModuleTimeoutError);
    expect(String(error)).toMatch(/proxy_on_request_headers of spinner \(worker 0\) ran longer than 300 ms/);
    expect(ms).toBeLessThan(5_000);
  });

  it('lets a call that works hard but ends run to completion, and refills the budget for the next', async () => {
    // 2 x 10^7 iterations: about a tenth of a 300 ms budget each time, more than it in total.
    const count = '(local $i i32) (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 20000000))))';
    const host = new Host({ callTimeLimitMs: 300 });
    closeAfterTest(host);
    host.addPlugin({ module: await wat(filter(count)), name: 'worker' });
    for (let i = 0; i < 20; i++) expect((await host.request()).status).toBe(200);
  });

  it('refuses memory past Envoy\'s 1 GiB: memory.grow returns -1', async () => {
    const host = new Host();
    closeAfterTest(host);
    // Grows by 2 GiB and traps when the grow fails.
    host.addPlugin({ module: await wat(filter('(if (i32.eq (memory.grow (i32.const 32768)) (i32.const -1)) (then unreachable))')), name: 'hog' });
    const r = await host.request();
    expect(r.status).toBe(503);
    expect(host.logs.messages('error').join('\n')).toMatch(/Function: proxy_on_request_headers failed: .*unreachable/);
  });
});
