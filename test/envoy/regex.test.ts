// Envoy decides what a regex means. The same generated patterns and subjects go through Envoy's
// own regexes and through the SDK's engine, and the answers must be the same:
// - a route's header matcher (safe_regex: the whole value, Latin-1: measured, one character per
//   byte and \x{100} refused), which header-routing and rate-quota follow;
// - CEL's matches() in a %CEL()% response header (anywhere in the value, UTF-8), which
//   access-control's matches() follows. Envoy's CEL refuses regexes whose RE2 program is over
//   100 instructions, so only small patterns go there.
import { afterAll, describe, expect, it } from 'vitest';
import { httpBootstrap } from '../../cli/envoy/resources.js';
import { send } from '../../cli/envoy/client.js';
import { EnvoyProcess, envoyMissingReason } from '../../cli/envoy/process.js';
import { textToBytes } from '../../host-sim/bytes.js';
import { randomSource } from '../../host-sim/random.js';
import { type Case, pattern, probeOutcomes, subject } from '../support/regex-corpus.js';

const started: EnvoyProcess[] = [];
afterAll(async () => { for (const e of started) await e.stop(); });

async function envoyWith(routes: object[], runtime: object = {}): Promise<EnvoyProcess> {
  const bootstrap = httpBootstrap({
    admin: { address: '127.0.0.1', port: 0 }, listener: { address: '127.0.0.1', port: 0 }, routeName: 'r', virtualHost: 'all',
    routes: routes as never, filters: [], clusters: [],
  }) as Record<string, unknown>;
  bootstrap.layered_runtime = { layers: [{ name: 'static', static_layer: runtime }] };
  const envoy = await EnvoyProcess.start(bootstrap, { concurrency: 1 });
  started.push(envoy);
  return envoy;
}

/** A subject Envoy's HTTP/1 codec passes on as it is: no control bytes, nothing to trim. */
function headerSafe(s: string): boolean {
  const bytes = textToBytes(s);
  return bytes.length > 0 && bytes.every((b) => b >= 0x20 && b !== 0x7f) && bytes[0] !== 0x20 && bytes[bytes.length - 1] !== 0x20;
}

function corpus(seed: number, patterns: number): Case[] {
  const r = randomSource(seed);
  const cases: Case[] = [];
  while (cases.length < patterns) {
    const inputs = Array.from({ length: 12 }, () => subject(r)).filter(headerSafe).slice(0, 4);
    if (inputs.length > 0) cases.push({ pattern: pattern(r), inputs });
  }
  return cases;
}

describe.skipIf(envoyMissingReason() !== undefined)('regex: the SDK answers as Envoy does', () => {
  it('safe_regex in a route (Latin-1, whole value): 250 generated patterns, alone and inside .*(?:...).*, up to 4 subjects each', async () => {
    // Generated patterns rarely match a whole subject; wrapped, they match wherever they occur.
    const generated = corpus(401, 250);
    const cases = [...generated, ...generated.map((c) => ({ ...c, pattern: `(?s:.*)(?:${c.pattern})(?s:.*)` }))].map((c) => ({ ...c, latin1: true }));
    const ours = await probeOutcomes(cases);
    const compiled = cases.map((c, i) => ({ ...c, index: i })).filter((c) => ours[c.index].error === undefined);
    expect(compiled.length).toBeGreaterThan(400);
    const routes: object[] = compiled.map((c) => ({
      match: { prefix: '/', headers: [{ name: 'x-p', string_match: { exact: String(c.index) } }, { name: 'x-s', string_match: { safe_regex: { regex: c.pattern } } }] },
      direct_response: { status: 200 },
    }));
    routes.push({ match: { prefix: '/' }, direct_response: { status: 404 } });
    // Envoy's default cap on RE2 program size (100) would refuse the larger generated patterns.
    const envoy = await envoyWith(routes, { re2: { max_program_size: { error_level: 1_000_000 } } });
    const differ: string[] = [];
    let matched = 0;
    for (const c of compiled) {
      for (const [j, s] of c.inputs.entries()) {
        const r = await send(envoy.port, { method: 'GET', path: '/', authority: 'x', headers: [['x-p', Buffer.from(String(c.index))], ['x-s', textToBytes(s)]] });
        const mine = ours[c.index].full![j];
        if (r.status === 200) matched++;
        if ((r.status === 200) !== mine) differ.push(`${JSON.stringify(c.pattern)} on ${JSON.stringify(s)}: Envoy ${r.status === 200}, ours ${mine}`);
      }
    }
    expect(differ).toEqual([]);
    expect(matched, 'subjects the patterns match').toBeGreaterThan(30);
  }, 120_000);

  it('CEL matches() (UTF-8, anywhere in the value): generated patterns small enough for Envoy, 8 subjects each', async () => {
    const all = corpus(402, 600);
    const sized = await probeOutcomes(all);
    // Well under CEL's limit of 100 RE2 instructions (our count is close to RE2's, not equal).
    const cases = all.filter((_, i) => sized[i].error === undefined && sized[i].size! <= 45).slice(0, 120);
    expect(cases.length).toBeGreaterThan(100);
    const r = randomSource(403);
    const subjects = Array.from({ length: 40 }, () => subject(r)).filter(headerSafe).slice(0, 8);
    const ours = await probeOutcomes(cases.map((c) => ({ pattern: c.pattern, inputs: subjects })));
    const cel = (p: string) => p.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    const envoy = await envoyWith([{
      match: { prefix: '/' }, direct_response: { status: 200 },
      response_headers_to_add: cases.map((c, i) => ({ header: { key: `x-r${i}`, value: `%CEL(request.headers['x-s'].matches('${cel(c.pattern)}'))%` } })),
    }]);
    const differ: string[] = [];
    let matched = 0;
    for (const [j, s] of subjects.entries()) {
      const res = await send(envoy.port, { method: 'GET', path: '/', authority: 'x', headers: [['x-s', textToBytes(s)]] });
      cases.forEach((c, i) => {
        const theirs = Buffer.from(res.headers.find(([k]) => k === `x-r${i}`)?.[1] ?? []).toString();
        const mine = String(ours[i].partial![j]);
        if (theirs === 'true') matched++;
        if (theirs !== mine) differ.push(`${JSON.stringify(c.pattern)} on ${JSON.stringify(s)}: Envoy ${theirs}, ours ${mine}`);
      });
    }
    expect(differ).toEqual([]);
    expect(matched, 'pairs that match').toBeGreaterThan(100);
  }, 120_000);

  it('Latin-1 is what Envoy compiles safe_regex with: it refuses what the SDK refuses, and folds only ASCII', async () => {
    for (const refused of ['\\x{100}', '\\777', '\\p{Script=Greek}']) {
      const [ours] = await probeOutcomes([{ pattern: refused, inputs: [], latin1: true }]);
      expect(ours.error, refused).toBeDefined();
      const route = { match: { prefix: '/', headers: [{ name: 'x-s', string_match: { safe_regex: { regex: refused } } }] }, direct_response: { status: 200 } };
      await expect(envoyWith([route]), refused).rejects.toThrow(/invalid (escape sequence|character class range)/);
    }
    const folding: Case[] = [
      { pattern: '(?i)\\xE9', inputs: ['\udcc9', '\udce9'], latin1: true },
      { pattern: '(?i)[\\xE0-\\xEF]x', inputs: ['\udcc9x', '\udce9X'], latin1: true },
      { pattern: '(?i)k', inputs: ['K', 'k'], latin1: true },
    ];
    const ours = await probeOutcomes(folding);
    const routes: object[] = folding.map((c, i) => ({
      match: { prefix: '/', headers: [{ name: 'x-p', string_match: { exact: String(i) } }, { name: 'x-s', string_match: { safe_regex: { regex: c.pattern } } }] },
      direct_response: { status: 200 },
    }));
    routes.push({ match: { prefix: '/' }, direct_response: { status: 404 } });
    const envoy = await envoyWith(routes);
    for (const [i, c] of folding.entries()) {
      for (const [j, s] of c.inputs.entries()) {
        const res = await send(envoy.port, { method: 'GET', path: '/', authority: 'x', headers: [['x-p', Buffer.from(String(i))], ['x-s', textToBytes(s)]] });
        expect(ours[i].full![j], `${c.pattern} on ${JSON.stringify(s)}`).toBe(res.status === 200);
      }
    }
    expect(ours[0].full).toEqual([false, true]);
  }, 60_000);
});
