// The SDK's regex engine against RE2 itself (npm re2, the library Envoy's regexes use): a
// fixed-seed corpus of generated patterns and subjects, compared on whether each pattern
// compiles, fully matches (safe_regex) and partially matches (CEL's matches()).
//
// The corpus covers literals (ASCII, Latin-1, BMP and astral, characters with Unicode case
// folds such as K/k/U+212A and s/ſ), `.`, classes with ranges and escapes, Perl and POSIX
// classes, Unicode classes (\pL \p{Greek} \PL \p{^Lu}, inside and outside brackets), anchors and
// word boundaries, groups, alternation, counted and open repetitions, the i, s and m flags with
// their scoping, \x{...}, octal, \Q...\E, \C, and subjects holding bytes that are not UTF-8,
// truncated sequences and encoded surrogates. Each pattern runs in both encodings: UTF-8 against
// RE2 directly, Latin-1 (Envoy's safe_regex) against RE2 on the same bytes read as Latin-1.
import RE2 from 're2';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { TABLES_FILE, generateUnicodeTables, readTables } from '../cli/unicode-tables.js';
import { textToBytes } from '../host-sim/bytes.js';
import { randomSource } from '../host-sim/random.js';
import { type Case, type Outcome, pattern, probeOutcomes, subject } from './support/regex-corpus.js';


/**
 * RE2's answers on the subjects' bytes: compiles, and full and partial matches per subject.
 * Both run anchored at the start (sticky), the search with RE2's own unanchored prefix spelled
 * out: npm re2's unanchored search drops empty matches inside a UTF-8 sequence when the
 * pattern has \B (for JavaScript's sake), which RE2 in Envoy does not (measured).
 */
function re2Outcome(p: string, subjects: Uint8Array[]): Outcome {
  let partial: RE2;
  let full: RE2;
  try {
    partial = new RE2(`(?s:\\C)*?(?:${p})`, 'uy');
    full = new RE2(`(?:${p})$`, 'uy');
  } catch (e) {
    return { error: (e as Error).message };
  }
  const test = (re: RE2, b: Buffer) => { re.lastIndex = 0; return re.test(b); };
  const bytes = subjects.map((b) => Buffer.from(b));
  return { full: bytes.map((b) => test(full, b)), partial: bytes.map((b) => test(partial, b)) };
}

/**
 * RE2 in Latin-1 (Envoy's safe_regex), from RE2 in UTF-8: the pattern's and the subject's bytes
 * read as the characters U+0000-U+00FF, \C as any such character; escapes past U+00FF refused.
 */
function re2Latin1Outcome(p: string, subjects: Uint8Array[]): Outcome {
  const asLatin1 = (b: Uint8Array) => Buffer.from(Buffer.from(b).toString('latin1'), 'utf8');
  let pattern = '';
  const text = Buffer.from(p, 'utf8').toString('latin1');
  for (let i = 0; i < text.length; i++) {
    if (text.startsWith('\\Q', i)) {
      const end = text.indexOf('\\E', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      pattern += text.slice(i, stop);
      i = stop - 1;
    } else if (text[i] === '\\' && i + 1 < text.length) {
      const escape = text.slice(i, i + 2);
      const wide = /^\\x\{([0-9A-Fa-f]+)\}/.exec(text.slice(i));
      const octal = /^\\([0-7]{1,3})/.exec(text.slice(i));
      if ((wide && parseInt(wide[1], 16) > 0xff) || (octal && parseInt(octal[1], 8) > 0xff)) return { error: 'invalid escape sequence' };
      pattern += escape === '\\C' ? '(?s:.)' : escape;
      i++;
    } else pattern += text[i];
  }
  return re2Outcome(pattern, subjects.map(asLatin1));
}

function compare(cases: Case[], ours: Outcome[]): string[] {
  const disagreements: string[] = [];
  cases.forEach((c, i) => {
    const bytes = c.inputs.map(textToBytes);
    const theirs = c.latin1 ? re2Latin1Outcome(c.pattern, bytes) : re2Outcome(c.pattern, bytes);
    const mine = ours[i];
    const mode = c.latin1 ? 'Latin-1' : 'UTF-8';
    if ((theirs.error === undefined) !== (mine.error === undefined)) {
      disagreements.push(`${mode} ${JSON.stringify(c.pattern)}: RE2 ${theirs.error ? `refuses (${theirs.error})` : 'accepts'}, ours ${mine.error ? `refuses (${mine.error})` : 'accepts'}`);
      return;
    }
    if (theirs.error) return;
    c.inputs.forEach((s, j) => {
      if (theirs.full![j] !== mine.full![j] || theirs.partial![j] !== mine.partial![j]) {
        disagreements.push(`${mode} ${JSON.stringify(c.pattern)} on ${JSON.stringify(s)}: RE2 full=${theirs.full![j]} partial=${theirs.partial![j]}, ours full=${mine.full![j]} partial=${mine.partial![j]}`);
      }
    });
  });
  return disagreements;
}

describe('regex: agreement with RE2', () => {
  it('compiles and matches 4,000 generated patterns against 5 subjects each, in both encodings (40,000 pairs), as RE2 does', async () => {
    const r = randomSource(20261130);
    const cases: Case[] = [];
    for (let i = 0; i < 4_000; i++) {
      const c = { pattern: pattern(r), inputs: Array.from({ length: 5 }, () => subject(r)) };
      const ascii = c.inputs.map((s) => s.replace(/[^\x00-\x7f]/gu, 'q'));
      cases.push(c, { pattern: c.pattern, inputs: c.pattern.includes('(?i') ? ascii : c.inputs, latin1: true });
    }
    const disagreements = compare(cases, await probeOutcomes(cases));
    expect(disagreements.slice(0, 20), `${disagreements.length} disagreements`).toEqual([]);
  }, 120_000);
});

describe('regex: long subjects', () => {
  it('searches that skip ahead to a literal or read backwards from a $ in pieces agree with RE2 across piece boundaries', async () => {
    const r = randomSource(77);
    const long = () => Array.from({ length: 240 + r.int(400) }, () => r.pick(['a', 'b', '😀', 'é', '\udcff', ' ', 'x'])).join('');
    const patterns = ['😀$', 'a😀\\z', '(?i)é(b|😀)$', '\\C$', 'x[^a]{3}$', '\\b$', 'ab😀', 'b.😀', '^a', '^(?s:.){300}', '😀\\C', '[^x]{250}$', '(?:a|😀){2}\\C{2}$'];
    const cases: Case[] = patterns.flatMap((pattern) => [{ pattern, inputs: Array.from({ length: 6 }, long) }, { pattern, inputs: Array.from({ length: 6 }, long), latin1: true }]);
    expect(compare(cases, await probeOutcomes(cases))).toEqual([]);
  });
});

describe('regex: syntax RE2 accepts and refuses', () => {
  const syntax = ['{2}', 'a{2}{3}', '(a{2}){1000}', '(a{10}){100}', '(a{10}){101}', '((a{10}){10}){11}', 'a{1001}', 'a{,2}', 'x{2,1}', '\\8',
    '(?P<1a>x)', '(?P<a-b>x)', '(?P<>x)', 'a**', 'a*?+', '(?i-)', '(?-)', '(?:)', '()*', '^*', '\\b+', 'x{2}?', '[a-\\d]', '[\\d-z]', '[z-a]', '[]a]',
    '[^]a]', 'a|*', '(*)', '(?', '(?P=n)', '\\z+', '\\Z', '\\G', '\\e', '\\N{U+41}', '[[:foo:]]', '[[=a=]]', '\\x{110000}', '\\x{}', '\\xG1',
    '(?P<n>a)(?P<n>b)', '\\Qa\\E*', '\\Q\\E*', 'a\\Q\\E*', '(?i)(?s)(?m)(?U)x', '(?x)a', '\\0', '\\07', '\\1', '\\12', '[\\x{10FFFF}]', '\\C+',
    '\\pL', '\\pl', '\\p{Cn}', '\\p{L&}', '\\p{LC}', '\\p{greek}', '\\p{IsGreek}', '\\p{}', '\\p{', '\\p', '\\P{^^L}',
    '\\p{^Any}', '[\\p{Lu}-z]', '[a-\\pL]', '\\p{Katakana_Or_Hiragana}', '\\p{Zzzz}', '\\pX', '\\x{100}', '\\x{FF}', '\\777', '\\377', '[\\x{100}-\\x{200}]'];

  it(`agrees on each of ${syntax.length} edge cases of its syntax, in both encodings`, async () => {
    const cases: Case[] = syntax.flatMap((pattern) => [{ pattern, inputs: [] }, { pattern, inputs: [], latin1: true }]);
    expect(compare(cases, await probeOutcomes(cases))).toEqual([]);
  });
});

describe('regex: Unicode data as RE2 has it', () => {
  it('the committed tables are what the generator makes of the Unicode data (npm run gen:unicode)', async () => {
    expect(readFileSync(TABLES_FILE, 'utf8')).toBe(await generateUnicodeTables());
  });

  it('every general category and script holds the code points RE2 puts in it (samples and the edges of every range)', async () => {
    const { groups } = await readTables();
    const names = [...groups.map((g) => g.name), 'C', 'L', 'M', 'N', 'P', 'S', 'Z', 'Any'];
    const r = randomSource(151);
    const cases: Case[] = names.map((name) => {
      const ranges = groups.find((g) => g.name === name)?.ranges ?? [[0, 0x10ffff]];
      const points = new Set<number>();
      for (let i = 0; i < 24; i++) {
        const [lo, hi] = ranges[r.int(ranges.length)];
        points.add(r.pick([lo - 1, lo, hi, hi + 1, lo + r.int(hi - lo + 1)]));
      }
      const inputs = [...points].filter((c) => c >= 0 && c <= 0x10ffff && (c < 0xd800 || c > 0xdfff)).map((c) => String.fromCodePoint(c));
      return { pattern: `^\\p{${name}}$`, inputs };
    });
    expect(compare(cases, await probeOutcomes(cases))).toEqual([]);
  });

  it('(?i) matches each character with every character it folds with, and nothing next to them', async () => {
    const { fold } = await readTables();
    const cases: Case[] = [];
    for (const e of fold) {
      for (const c of new Set([e.lo, e.hi])) {
        const inputs = [c - 1, c, c + 1, c + 32, c - 32, 0x212a, 0x17f, 0x3c3, 0x3c2].filter((x) => x >= 0 && (x < 0xd800 || x > 0xdfff)).map((x) => String.fromCodePoint(x));
        cases.push({ pattern: `(?i)^\\x{${c.toString(16)}}$`, inputs }, { pattern: `(?i)^[\\x{${c.toString(16)}}-\\x{${(c + 2).toString(16)}}]$`, inputs });
      }
    }
    expect(compare(cases, await probeOutcomes(cases))).toEqual([]);
  });
});
