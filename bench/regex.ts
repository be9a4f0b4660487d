// The SDK's regex engine against native RE2 (npm re2) on 10 KB and 100 KB subjects: time per
// match in one run, as ratios. The engine runs in Node's Wasm engine (V8, as in Envoy), alone,
// with the conversion of the subject string to bytes that every match pays.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import RE2 from 're2';
import { readTables, encodeTables } from '../cli/unicode-tables.js';
import { buildFixture } from '../test/support/compile.js';
import { randomSource } from '../host-sim/random.js';
import { median, row } from './table.js';

interface Engine {
  alloc(size: number): number;
  setPattern(ptr: number, length: number, latin1: number): number;
  setSubject(ptr: number, length: number): void;
  run(times: number, full: number): number;
  memory: WebAssembly.Memory;
}

interface Case { pattern: string; full?: boolean; text: (size: number) => string }

const r = randomSource(13);
const words = ['alpha', 'beta', 'gamma', 'delta', 'user', 'api', 'v1', 'token', 'session', 'x-request-id', '42', 'GET', '/path'];
const prose = (size: number): string => {
  let out = '';
  while (out.length < size) out += r.pick(words) + r.pick([' ', ' ', '/', '-', '.', ';']);
  return out.slice(0, size);
};
const greek = (size: number): string => {
  let out = '';
  while (Buffer.byteLength(out) < size) out += r.pick(['λόγος ', 'alpha ', 'βήτα ', '42 ', 'ωμέγα; ']);
  return out;
};
const letters = (size: number): string => 'a'.repeat(size);
const ab = (size: number): string => Array.from({ length: size }, () => r.pick(['a', 'b'])).join('');

const CASES: Case[] = [
  { pattern: 'needle', text: prose },
  { pattern: 'sess[a-z]+ion=[0-9a-f]{32}', text: prose },
  { pattern: '(?i)X-REQUEST-ID: [0-9]+$', text: prose },
  { pattern: '\\bdelta\\b.*\\btoken=', text: prose },
  { pattern: '^(/[a-z0-9-]+)+/?$', full: true, text: (n) => ('/' + prose(n).replace(/[^a-z0-9-]/g, 'a')).slice(0, n) },
  { pattern: '[a-z]{0,300}!', text: letters },
  { pattern: '(a|b)*a(a|b){12}c', text: ab },
  { pattern: '\\p{Greek}+\\d{3}', text: greek },
  { pattern: '(?i)ΣΊΓΜΑ', text: greek },
  { pattern: '.*[0-9]{4}-[0-9]{2}-[0-9]{2}', full: true, text: prose },
];

/** ns per call of fn(times), the median of 5 runs sized to take ~20 ms each. */
function time(fn: (times: number) => void): number {
  let times = 1;
  for (;;) {
    const start = process.hrtime.bigint();
    fn(times);
    const ns = Number(process.hrtime.bigint() - start);
    if (ns > 20e6 || times > 1e6) break;
    times *= 4;
  }
  const samples: number[] = [];
  for (let run = 0; run < 5; run++) {
    const start = process.hrtime.bigint();
    fn(times);
    samples.push(Number(process.hrtime.bigint() - start) / times);
  }
  return median(samples);
}

function put(engine: Engine, text: string): [number, number] {
  const bytes = Buffer.from(text, 'utf8');
  const ptr = engine.alloc(bytes.length);
  new Uint8Array(engine.memory.buffer, ptr, bytes.length).set(bytes);
  return [ptr, bytes.length];
}

export async function benchRegex(): Promise<void> {
  const wasm = await buildFixture(join('bench', 'fixtures', 'regex-bench.ts'), 'regex-bench');
  // The engine needs no host; the SDK's abort and seed helpers import these two.
  const fail = () => { throw new Error('the regex bench module trapped'); };
  const { instance } = await WebAssembly.instantiate(readFileSync(wasm), {
    env: { proxy_log: fail }, wasi_snapshot_preview1: { random_get: () => 0 },
  });
  (instance.exports._initialize as () => void)();
  const engine = instance.exports as unknown as Engine;
  console.log('\nassembly/util/regex against native RE2 (npm re2), time per match');
  console.log(row(['pattern (subject bytes)', 'RE2 ns', 'ours ns', 'ours/RE2']));
  const ratios: number[] = [];
  for (const c of CASES) {
    for (const size of [10_000, 100_000]) {
      const text = c.text(size);
      const re2 = new RE2(c.full ? `^(?:${c.pattern})$` : c.pattern, 'u');
      const buffer = Buffer.from(text, 'utf8');
      const theirs = time((n) => { for (let i = 0; i < n; i++) re2.test(buffer); });
      if (!engine.setPattern(...put(engine, c.pattern), 0)) throw new Error(`${c.pattern} does not compile`);
      engine.setSubject(...put(engine, text));
      if ((engine.run(1, c.full ? 1 : 0) === 1) !== re2.test(buffer)) throw new Error(`${c.pattern}: the engines disagree`);
      const ours = time((n) => engine.run(n, c.full ? 1 : 0));
      ratios.push(ours / theirs);
      console.log(row([`${c.pattern} (${buffer.length})`.slice(0, 45), theirs.toFixed(0), ours.toFixed(0), (ours / theirs).toFixed(1)]));
    }
  }
  console.log(`ratio ours/RE2: median ${median(ratios).toFixed(1)} (goal: <= 20), worst ${Math.max(...ratios).toFixed(1)} (goal: <= 100)`);
  const { groups, fold } = encodeTables(await readTables());
  console.log(`Unicode tables (assembly/util/regex/unicode-tables.ts): ${groups.length} bytes of categories and scripts, ${fold.length} bytes of case folding; ` +
    `the regex bench module is ${readFileSync(wasm).length} bytes`);
}

