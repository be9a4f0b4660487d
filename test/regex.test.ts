// The SDK's RE2-dialect regex engine, run inside a module in host-sim.
import { afterAll, describe, expect, it } from 'vitest';
import { Host, PluginLoadError } from '../host-sim/index.js';
import { fixtureModule } from './support/modules.js';

const host = new Host({ clusters: { backend: () => ({ status: 200 }) } });
afterAll(() => host.close());

interface Outcome { error?: string; full?: boolean[]; partial?: boolean[] }

/** Compiles each pattern in the module and matches its inputs; returns what the module saw. */
async function run(cases: { pattern: string; inputs?: string[] }[]): Promise<Outcome[]> {
  const scoped = new Host({ clusters: { backend: () => ({ status: 200 }) } });
  try {
    scoped.addPlugin({ module: fixtureModule('regex-probe'), rootId: 'regex', configuration: { cases: cases.map((c) => ({ inputs: [], ...c })) } });
    return JSON.parse((await scoped.request()).body);
  } finally {
    scoped.close();
  }
}

const matching: [string, string, boolean, boolean][] = [
  // pattern, input, full match, partial match
  ['abc', 'abc', true, true],
  ['abc', 'xabcx', false, true],
  ['a.c', 'a-c', true, true],
  ['a.c', 'a\nc', false, false],
  ['(?s)a.c', 'a\nc', true, true],
  ['a*', '', true, true],
  ['a+b', 'aaab', true, true],
  ['a+b', 'b', false, false],
  ['colou?r', 'color', true, true],
  ['x{2,3}', 'xxx', true, true],
  ['x{2,3}', 'xxxx', false, true],
  ['x{2}', 'x', false, false],
  ['x{2,}', 'xxxxxxx', true, true],
  ['[a-c]+', 'abcab', true, true],
  ['[^0-9]+', 'abc', true, true],
  ['[^0-9]+', 'ab1', false, true],
  ['\\d{3}-\\d{4}', '555-1234', true, true],
  ['\\w+@\\w+\\.com', 'joe@example.com', true, true],
  ['\\s', 'a b', false, true],
  ['[[:alpha:]]+', 'Hello', true, true],
  ['[\\d\\-]+', '12-34', true, true],
  ['cat|dog', 'dog', true, true],
  ['^/api/v[12]/', '/api/v2/users', false, true],
  ['/api/v[12]/.*', '/api/v2/users', true, true],
  ['(?i)GET|POST', 'post', true, true],
  ['(?:ab)+', 'ababab', true, true],
  ['(?P<id>[0-9]+)', '42', true, true],
  ['foo$', 'a foo', false, true],
  ['^foo', 'a foo', false, false],
  ['\\bfoo\\b', 'a foo b', false, true],
  ['\\bfoo\\b', 'afoob', false, false],
  ['a\\.b', 'a.b', true, true],
  ['a\\.b', 'axb', false, false],
  ['\\x41', 'A', true, true],
  ['a{,2}', 'a{,2}', true, true],
];

describe('regex: RE2 syntax and full-match semantics', () => {
  it('matches as RE2 does', async () => {
    const results = await run(matching.map(([pattern, input]) => ({ pattern, inputs: [input] })));
    matching.forEach(([pattern, input, full, partial], i) => {
      expect(results[i].error, pattern).toBeUndefined();
      expect(results[i].full![0], `${pattern} full-matches ${JSON.stringify(input)}`).toBe(full);
      expect(results[i].partial![0], `${pattern} partially matches ${JSON.stringify(input)}`).toBe(partial);
    });
  });

  const errors: [string, RegExp][] = [
    ['(abc', /missing closing \) at position 0/],
    ['abc)', /unexpected \) at position 3/],
    ['[a-', /missing closing \] at position 0/],
    ['[z-a]', /invalid character class range at position 1/],
    ['*a', /no argument for repetition operator at position 0/],
    ['{2}a', /no argument for repetition operator at position 0/],
    ['(a{10}){101}', /invalid repetition size \{101\} at position 7/],
    ['a**', /bad repetition operator at position 2/],
    ['(a)\\1', /backreferences are not supported \(RE2 syntax\) at position 3/],
    ['foo(?=bar)', /lookahead \(\?= is not supported \(RE2 syntax\) at position 3/],
    ['(?<=a)b', /lookbehind is not supported/],
    ['a{1001}', /invalid repetition size \{1001\} at position 1/],
    ['a{3,2}', /invalid repetition size \{3,2\}/],
    ['\\q', /invalid escape sequence \\q at position 0/],
    ['abc\\', /trailing backslash/],
    ['[[:nope:]]', /invalid character class range \[:nope:\]/],
    ['(?x)a', /invalid or unsupported flag 'x'/],
    ['((a{1000}){1000}){1000}', /invalid repetition size \{1000\}/],
  ];
  it('rejects what RE2 rejects, naming the problem and its position', async () => {
    const results = await run(errors.map(([pattern]) => ({ pattern })));
    errors.forEach(([pattern, message], i) => expect(results[i].error, pattern).toMatch(message));
  });

  it('answers input that makes backtracking engines explode (2^5000 steps there; linear here)', async () => {
    const input = `${'a'.repeat(5000)}!`;
    const results = await run([{ pattern: '(a+)+$', inputs: [input] }, { pattern: '(a|aa)*b', inputs: [input] }]);
    expect(results.map((r) => r.full![0])).toEqual([false, false]);
    expect(results.map((r) => r.partial![0])).toEqual([false, false]);
  });
});

describe('regex: RE2 differences found by the differential run, fixed', () => {
  it('a search goes on past positions where no thread is alive (\\bbeta\\b in "alpha beta")', async () => {
    const [r] = await run([{ pattern: '\\bbeta\\b', inputs: ['alpha beta', 'alphabeta'] }]);
    expect(r.partial).toEqual([true, false]);
  });

  it('matches code points: . and negated classes take a character above U+FFFF whole', async () => {
    const results = await run([{ pattern: '.', inputs: ['😀'] }, { pattern: '[^a]', inputs: ['😀'] }, { pattern: '[😀-😂]', inputs: ['😁'] }, { pattern: '\\x{1F600}', inputs: ['😀'] }]);
    expect(results.map((r) => r.full![0])).toEqual([true, true, true, true]);
  });

  it('reads escapes as RE2 does: ranges ending in \\xHH, octal, \\Q...\\E; and refuses \\u and duplicate names', async () => {
    const results = await run([
      { pattern: '[\\x20-\\x7e]+', inputs: ['hello world'] }, { pattern: '\\101\\0', inputs: ['A\0'] }, { pattern: '\\Qa.b*\\E', inputs: ['a.b*', 'axbb'] },
      { pattern: '\\u0041' }, { pattern: '(?P<n>a)(?P<n>b)' }, { pattern: '(?-)a' },
    ]);
    expect(results.slice(0, 3).map((r) => r.full)).toEqual([[true], [true], [true, false]]);
    expect(results.slice(3).map((r) => r.error !== undefined)).toEqual([true, true, true]);
  });

  it('scopes flags to their group, and honours (?m)', async () => {
    const results = await run([
      { pattern: '(a(?i)b)c', inputs: ['aBc', 'aBC'] },
      { pattern: '(?m)^b$', inputs: ['a\nb\nc'] },
      { pattern: '^b$', inputs: ['a\nb\nc'] },
    ]);
    expect(results[0].full).toEqual([true, false]);
    expect(results[1].partial).toEqual([true]);
    expect(results[2].partial).toEqual([false]);
  });

  it('closes over (?:^|a){545} without recursion: no stack overflow, the VM keeps serving', async () => {
    const [r] = await run([{ pattern: '(?:^|a){545}', inputs: ['a'.repeat(600)] }]);
    expect(r.error).toBeUndefined();
    expect(r.partial).toEqual([true]);
  });

  it('compiles, reverses and runs nesting of any depth, as RE2 does, without exhausting the stack', async () => {
    const deep = (n: number) => '('.repeat(n) + '\\pL' + ')'.repeat(n);
    const [forward, backward, folded, repeated, far] = await run([
      { pattern: deep(1000), inputs: ['é', '1'] },
      { pattern: `x${deep(1000)}$`, inputs: ['axé', 'xé1'] },
      { pattern: `(?i)${deep(1000)}{2}`, inputs: ['ΣΣ'] },
      { pattern: '(?:a|'.repeat(1000) + 'b' + ')*'.repeat(1000), inputs: ['aab', 'c'] },
      { pattern: deep(20_000), inputs: ['é'] },
    ]);
    expect(forward.full).toEqual([true, false]);
    expect(backward.partial).toEqual([true, false]);
    expect(folded.partial).toEqual([true]);
    expect(repeated.full).toEqual([true, false]);
    expect(far.full).toEqual([true]);
  });
});

describe('regex fixture', () => {
  it('is refused with the JSON error when its configuration is not JSON', () => {
    expect(() => host.addPlugin({ module: fixtureModule('regex-probe'), rootId: 'regex', configuration: '{' })).toThrow(PluginLoadError);
  });
});
