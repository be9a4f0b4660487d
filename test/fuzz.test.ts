// wfk fuzz: every filter runs clean on 10,000 random and malformed requests and on mutated
// configurations (none the schema refuses is accepted); planted bugs are found, with a seed and
// a shrunk reproducer.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FILTERS_DIR, ROOT, listFilters } from '../cli/paths.js';
import { fuzz } from '../cli/fuzz.js';
import { MALLOC, wat } from './support/wat.js';

/** A filter's first README example: the configuration it documents first. */
const example = (filter: string) => readFileSync(join(FILTERS_DIR, filter, 'README.md'), 'utf8').match(/```json\n([\s\S]*?)```/)![1];
const dir = mkdtempSync(join(tmpdir(), 'wfk-fuzz-'));

describe('wfk fuzz', () => {
  for (const filter of listFilters()) {
    it(`${filter}: 10,000 requests and 200 configurations, clean`, async () => {
      const report = await fuzz(filter, { configuration: example(filter), requests: 10_000, seed: 1, configs: 200, callTimeLimitMs: 10_000 });
      expect(report.findings).toEqual([]);
    }, 120_000);
  }

  /** Reads :path and, when it is longer than 30 bytes, traps or loops forever. */
  const planted = async (file: string, bug: 'unreachable' | '(loop $forever (br $forever))') => {
    const bytes = await wat(`(module
      (import "env" "proxy_get_header_map_value" (func $get (param i32 i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 100) ":path")
      ${MALLOC}
      (func (export "proxy_abi_version_0_2_1"))
      (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32) (local $size i32)
        (drop (call $get (i32.const 0) (i32.const 100) (i32.const 5) (i32.const 200) (i32.const 204)))
        (local.set $size (i32.load (i32.const 204)))
        (if (i32.gt_u (local.get $size) (i32.const 30)) (then ${bug}))
        (i32.const 0)))`);
    writeFileSync(join(dir, file), bytes);
    return join(dir, file);
  };

  it('finds a planted trap, names the seed and shrinks the reproducer', async () => {
    const report = await fuzz(await planted('trap.wasm', 'unreachable'), { configuration: '', requests: 1_000, seed: 3, configs: 0, callTimeLimitMs: 500 });
    const trap = report.findings.find((f) => f.kind === 'trap');
    expect(trap?.detail).toMatch(/proxy_on_request_headers trapped: .*unreachable/);
    // Shrunk: only what makes the path long is left.
    const reproducer = trap!.reproducer as { path: string; headers?: unknown[] };
    const bytes = Buffer.byteLength(reproducer.path);
    expect(bytes).toBeGreaterThan(30);
    expect(bytes).toBeLessThanOrEqual(2 * 31 * 3);
    expect(reproducer.headers ?? []).toEqual([]);
  }, 60_000);

  it('reports a call that never returns as a hang, and the CLI exits 1', async () => {
    const module = await planted('hang.wasm', '(loop $forever (br $forever))');
    writeFileSync(join(dir, 'empty.json'), '');
    const cli = spawnSync(process.execPath, [join(ROOT, 'cli', 'bin', 'wfk.mjs'), 'fuzz', module, '-c', join(dir, 'empty.json'), '--requests', '3000', '--seed', '5', '--time-limit', '300'],
      { encoding: 'utf8', timeout: 60_000 });
    expect(cli.status).toBe(1);
    expect(cli.stdout).toMatch(/seed 5: 1 finding\(s\)/);
    expect(cli.stdout).toMatch(/hang: proxy_on_request_headers of .* ran longer than 300 ms/);
    expect(cli.stdout).toContain('replay: --seed 5');
  }, 60_000);
});
