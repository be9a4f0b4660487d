// The generated regex corpus the differential tests share (test/regex-re2.test.ts against npm
// re2, test/envoy/regex.test.ts against Envoy): patterns over RE2's constructs and subjects
// holding ASCII, Latin-1, other scripts, astral characters and bytes that are not UTF-8.
import { Host } from '../../host-sim/index.js';
import type { RandomSource } from '../../host-sim/random.js';
import { fixtureModule } from './modules.js';

export interface Outcome { error?: string; full?: boolean[]; partial?: boolean[]; size?: number }
export interface Case { pattern: string; inputs: string[]; latin1?: boolean }

type Random = RandomSource;

const LITERALS = ['a', 'b', 'c', 'x', 'Z', 'k', 'K', 's', '0', '7', '_', '-', ' ', 'é', 'É', 'ß', 'ſ', 'K', 'σ', 'Σ', 'ς', 'µ', 'ÿ', '中', '😀',
  '\\n', '\\.', '\\*', '\\(', '\\[', '\\\\', '\\x41', '\\x{1F600}', '\\x{e9}', '\\xC9', '\\x{212A}', '\\101', '\\0', '\\t'];
const CLASSES = ['\\C', '[a-c]', '[^a-c]', '[0-9a-f]', '[\\x20-\\x7e]', '[^\\n]', '[\\d_]', '[\\w.-]', '[^\\s]', '[é-ü]', '[😀-😂]', '[^😀]', '[[:alpha:]]',
  '[[:^digit:]]', '[[:upper:]]', '[a\\]]', '[-a]', '[\\x{1F600}-\\x{1F64F}]', '[k-s]', '[^k]', '\\d', '\\D', '\\w', '\\W', '\\s', '\\S', '.',
  '\\pL', '\\p{Lu}', '\\p{Ll}', '\\p{Greek}', '\\PL', '\\p{^Greek}', '\\P{^Lu}', '\\pN', '\\p{Nd}', '\\pZ', '\\p{Han}', '\\p{Latin}', '\\p{Any}',
  '\\p{So}', '[\\pL\\d]', '[^\\p{Latin}]', '[\\p{Greek}a-c]', '[\\PLx]'];
const ANCHORS = ['^', '$', '\\A', '\\z', '\\b', '\\B'];
const QUANTIFIERS = ['*', '+', '?', '*?', '+?', '??', '{2}', '{1,3}', '{0,2}', '{2,}', '{0}'];
// Units U+DC80-U+DCFF stand for single bytes that are not UTF-8 (as the SDK reads a header's
// bytes): 0xFF, 0x80, a truncated euro sign (E2 82) and an encoded surrogate (ED A0 80).
const SUBJECT_ATOMS = ['a', 'b', 'c', 'x', 'Z', 'A', 'k', 'K', 's', 'S', '0', '7', '_', '-', ' ', '.', '*', '\n', 'é', 'É', 'ß', 'ſ', 'K', 'σ', 'Σ', 'ς',
  'µ', 'Μ', 'ÿ', 'Ÿ', '中', '😀', '😂', '١', 'Ⅻ', '\u00a0', '\u2028', '\t', 'ab', 'abc', 'xZ', '\udcff', '\udc80', '\udce2\udc82', '\udced\udca0\udc80'];

function atom(r: Random, depth: number): string {
  const roll = r.int(10);
  if (roll < 4 || depth > 2) return r.pick(LITERALS);
  if (roll < 6) return r.pick(CLASSES);
  if (roll < 7) return r.pick(ANCHORS);
  if (roll < 8) return `\\Q${r.pick(['a.b', '*', 'x(y', ''])}\\E`;
  const inner = alternation(r, depth + 1);
  return r.pick([`(${inner})`, `(?:${inner})`, `(?P<g${r.int(9)}>${inner})`, `(?s:${inner})`, `(?m:${inner})`, `(?i:${inner})`]);
}

function sequence(r: Random, depth: number): string {
  let out = '';
  for (let n = 1 + r.int(4); n > 0; n--) {
    const a = atom(r, depth);
    out += a;
    if (r.int(3) === 0 && !ANCHORS.includes(a) && !a.startsWith('\\Q')) out += r.pick(QUANTIFIERS);
  }
  return out;
}

function alternation(r: Random, depth: number): string {
  const branches = [sequence(r, depth)];
  while (r.int(4) === 0) branches.push(sequence(r, depth));
  return branches.join('|');
}

export function pattern(r: Random): string {
  const flags = r.pick(['', '', '', '(?s)', '(?m)', '(?i)', '(?ms)', '(?-s)']);
  return flags + alternation(r, 0);
}

export function subject(r: Random): string {
  let out = '';
  for (let n = r.int(7); n > 0; n--) out += r.pick(SUBJECT_ATOMS);
  return out;
}


/** The SDK's answers (test/fixtures/regex-probe): compiles, full and partial matches per subject. */
export async function probeOutcomes(cases: Case[]): Promise<Outcome[]> {
  // The probe compiles and matches its cases in one configure call (no time limit on it), in
  // slices: a VM whose configuration holds the whole corpus spends its time in the collector.
  const outcomes: Outcome[] = [];
  for (let at = 0; at < cases.length; at += 500) {
    const host = new Host({ clusters: { backend: () => ({ status: 200 }) }, callTimeLimitMs: 0 });
    try {
      host.addPlugin({ module: fixtureModule('regex-probe'), rootId: 'regex', configuration: { cases: cases.slice(at, at + 500) } });
      outcomes.push(...JSON.parse((await host.request()).body) as Outcome[]);
    } finally {
      host.close();
    }
  }
  return outcomes;
}

