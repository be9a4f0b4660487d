// The module check: one hand-written module per rule, each broken in exactly one way.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkModule, formatReport } from '../cli/check.js';
import { DIST_DIR, listFilters, ROOT } from '../cli/build.js';
import { wat } from './support/wat.js';

describe('module check', () => {
  it('accepts a clean module', async () => {
    const report = checkModule(await wat('clean'));
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(report.abi).toBe('0.2.1');
  });

  const broken: [string, string, string | RegExp, RegExp][] = [
    ['no-abi-marker', 'abi-marker', 'Missing or unknown Proxy-Wasm ABI version', /proxy_abi_version/],
    ['no-allocator', 'allocator', 'Wasm module is missing malloc function.', /malloc/],
    ['no-memory', 'memory', /no memory/, /exported memory/],
    ['missing-import', 'import', 'Failed to load Wasm module due to a missing import: env.proxy_get_map_value', /env\.proxy_get_map_value/],
    ['import-type-mismatch', 'import', 'Failed to load Wasm module due to an import type mismatch: env.proxy_log, want: i32(i32, i32), but host exports: i32(i32, i32, i32)', /i32\(i32, i32, i32\)/],
    ['import-wrong-abi', 'import', 'Failed to load Wasm module due to a missing import: env.proxy_get_configuration', /only for ABI 0\.1\.0/],
    ['imported-global', 'global-import', /missing import: env\.__stack_pointer/, /global/],
    ['bad-callback-signature', 'export-signature', 'Bad function signature for: proxy_on_request_headers', /i32\(i32, i32, i32\)/],
  ];

  for (const [fixture, rule, envoySays, message] of broken) {
    it(`rejects ${fixture} with exactly one ${rule} error`, async () => {
      const report = checkModule(await wat(fixture));
      expect(report.errors).toHaveLength(1);
      const [error] = report.errors;
      expect(error.rule).toBe(rule);
      expect(error.message).toMatch(message);
      if (typeof envoySays === 'string') expect(error.envoySays).toBe(envoySays);
      else expect(error.envoySays).toMatch(envoySays);
    });
  }

  it('warns, without failing, on WASI functions newer than tier T1', async () => {
    const report = checkModule(await wat('wasi-newer-tier'));
    expect(report.errors).toEqual([]);
    expect(report.warnings.map((w) => w.rule)).toEqual(['wasi-tier']);
    expect(report.warnings[0].subject).toBe('wasi_snapshot_preview1.path_unlink_file');
  });

  it('warns, without failing, on a start section that can call the host (only running it tells; host-sim does)', async () => {
    const report = checkModule(await wat('start-section-calls-host'));
    expect(report.errors).toEqual([]);
    expect(report.warnings.map((w) => w.rule)).toEqual(['start-section']);
    expect(report.warnings[0].message).toMatch(/env\.proxy_log.*start function trapped/);
  });

  it('reports bytes that are not wasm as a format error', () => {
    const report = checkModule(new TextEncoder().encode('#!/bin/sh\necho not wasm\n'));
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0].rule).toBe('format');
    expect(report.errors[0].message).toMatch(/magic number/);
  });

  it('reports a truncated module with the offset where it ends', async () => {
    const bytes = await wat('clean');
    const report = checkModule(bytes.subarray(0, bytes.length - 5));
    expect(report.errors[0].rule).toBe('format');
    expect(report.errors[0].message).toMatch(/byte \d+/);
  });

  it('prints a readable report naming the import and what Envoy would say', async () => {
    const text = formatReport('bad.wasm', checkModule(await wat('missing-import')));
    expect(text).toContain('bad.wasm: FAILED');
    expect(text).toContain('error [import]');
    expect(text).toContain('Envoy: "Failed to load Wasm module due to a missing import: env.proxy_get_map_value"');
  });

  it('passes every module the build produced', () => {
    for (const name of listFilters()) {
      const report = checkModule(readFileSync(join(DIST_DIR, `${name}.wasm`)));
      expect(report.errors, `${name}: ${formatReport(name, report)}`).toEqual([]);
      expect(report.abi).toBe('0.2.1');
    }
  });
});

describe('wfk check', () => {
  const wfk = join(ROOT, 'cli', 'bin', 'wfk.mjs');

  it('exits 0 for a good module and 1 for a module Envoy would refuse', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wfk-check-'));
    writeFileSync(join(dir, 'good.wasm'), await wat('clean'));
    writeFileSync(join(dir, 'bad.wasm'), await wat('bad-callback-signature'));
    const good = spawnSync(process.execPath, [wfk, 'check', join(dir, 'good.wasm')], { encoding: 'utf8' });
    expect(good.status).toBe(0);
    expect(good.stdout).toContain('ok: Envoy would load this module');
    const bad = spawnSync(process.execPath, [wfk, 'check', join(dir, 'bad.wasm')], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('Bad function signature for: proxy_on_request_headers');
  });

  it('exits 2 with a clear message for a file that does not exist', () => {
    const result = spawnSync(process.execPath, [wfk, 'check', '/nonexistent/module.wasm'], { encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('cannot read the module /nonexistent/module.wasm: no such file or folder');
  });

  it('prints JSON with --json', async () => {
    const out = execFileSync(process.execPath, [wfk, 'check', '--json', join(DIST_DIR, 'add-header.wasm')], { encoding: 'utf8' });
    const report = JSON.parse(out);
    expect(report.abi).toBe('0.2.1');
    expect(report.errors).toEqual([]);
  });
});
