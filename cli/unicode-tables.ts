// Generates assembly/util/regex/unicode-tables.ts: the Unicode data RE2 uses for \p{...} classes and
// (?i) case folding, from the Unicode Character Database release RE2 (and Envoy's copy of it)
// is built on. Run `npm run gen:unicode` after changing the release; a test checks that the
// committed file is what this produces.
import { readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const UNICODE_VERSION = '15.1.0';
const PACKAGE = `@unicode/unicode-${UNICODE_VERSION}`;
export const TABLES_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'assembly', 'util', 'regex', 'unicode-tables.ts');

/** RE2's general-category names (the leaves; L, M, N, ... are their unions) and the UCD's long names. */
const CATEGORIES: [string, string][] = [
  ['Cc', 'Control'], ['Cf', 'Format'], ['Co', 'Private_Use'], ['Cs', 'Surrogate'],
  ['Ll', 'Lowercase_Letter'], ['Lm', 'Modifier_Letter'], ['Lo', 'Other_Letter'], ['Lt', 'Titlecase_Letter'], ['Lu', 'Uppercase_Letter'],
  ['Mc', 'Spacing_Mark'], ['Me', 'Enclosing_Mark'], ['Mn', 'Nonspacing_Mark'],
  ['Nd', 'Decimal_Number'], ['Nl', 'Letter_Number'], ['No', 'Other_Number'],
  ['Pc', 'Connector_Punctuation'], ['Pd', 'Dash_Punctuation'], ['Pe', 'Close_Punctuation'], ['Pf', 'Final_Punctuation'],
  ['Pi', 'Initial_Punctuation'], ['Po', 'Other_Punctuation'], ['Ps', 'Open_Punctuation'],
  ['Sc', 'Currency_Symbol'], ['Sk', 'Modifier_Symbol'], ['Sm', 'Math_Symbol'], ['So', 'Other_Symbol'],
  ['Zl', 'Line_Separator'], ['Zp', 'Paragraph_Separator'], ['Zs', 'Space_Separator'],
];

type Range = [number, number];

interface Tables { groups: { name: string; ranges: Range[] }[]; fold: { lo: number; hi: number; delta: number }[] }

/** Reads the groups and the fold orbits from the UCD package. */
export async function readTables(): Promise<Tables> {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve(`${PACKAGE}/package.json`));
  const ranges = async (path: string): Promise<Range[]> => {
    const list = (await import(pathToFileURL(join(root, path, 'ranges.mjs')).href)).default as { begin: number; end: number }[];
    return list.map((r) => [r.begin, r.end - 1] as Range);
  };
  const groups: Tables['groups'] = [];
  for (const [name, long] of CATEGORIES) groups.push({ name, ranges: await ranges(join('General_Category', long)) });
  // Scripts.txt's scripts. RE2 has no group for Unknown (unassigned code points) nor for
  // Katakana_Or_Hiragana (no characters of its own).
  const scripts = readdirSync(join(root, 'Script')).filter((n) => !n.includes('.') && n !== 'Unknown').sort();
  for (const name of scripts) {
    const r = await ranges(join('Script', name));
    if (r.length > 0) groups.push({ name, ranges: r });
  }
  return { groups, fold: await foldTable(root) };
}

/**
 * Simple case folding (CaseFolding.txt's C and S lines) as orbits: each character maps to the
 * next larger one that folds the same way, the largest back to the smallest. Packed as RE2
 * packs them: runs of consecutive characters with the same step, or of pairs that map to each
 * other (EVEN_ODD: even +1, odd -1; ODD_EVEN: odd +1, even -1).
 */
export const EVEN_ODD = 1 << 30;
export const ODD_EVEN = -(1 << 30);

async function foldTable(root: string): Promise<Tables['fold']> {
  const orbits = new Map<number, Set<number>>();
  for (const status of ['C', 'S']) {
    const map = (await import(pathToFileURL(join(root, 'Case_Folding', status, 'code-points.mjs')).href)).default as Map<number, number>;
    for (const [from, to] of map) {
      const set = orbits.get(to) ?? new Set([to]);
      set.add(from);
      orbits.set(to, set);
    }
  }
  const next = new Map<number, number>();
  for (const set of orbits.values()) {
    const members = [...set].sort((a, b) => a - b);
    members.forEach((c, i) => next.set(c, members[(i + 1) % members.length]));
  }
  const pairKind = (c: number, delta: number): number =>
    (c % 2 === 0 ? delta === 1 : delta === -1) ? EVEN_ODD : (c % 2 === 1 ? delta === 1 : delta === -1) ? ODD_EVEN : 0;
  const entries: Tables['fold'] = [];
  for (const c of [...next.keys()].sort((a, b) => a - b)) {
    const delta = next.get(c)! - c;
    const last = entries[entries.length - 1];
    if (last && last.hi === c - 1) {
      if (last.delta === delta) { last.hi = c; continue; }
      const kind = pairKind(c, delta);
      if (kind !== 0 && (last.delta === kind || (last.lo === last.hi && pairKind(last.lo, last.delta) === kind))) {
        last.delta = kind;
        last.hi = c;
        continue;
      }
    }
    entries.push({ lo: c, hi: c, delta });
  }
  return entries;
}

function varint(n: number, out: number[]): void {
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128); }
  out.push(n);
}

/** The tables as bytes: see unicode.ts for the layout. */
export function encodeTables(t: Tables): { groups: number[]; fold: number[] } {
  const groups: number[] = [];
  for (const g of t.groups) {
    groups.push(g.name.length, ...Buffer.from(g.name, 'ascii'));
    varint(g.ranges.length, groups);
    let prev = 0;
    for (const [lo, hi] of g.ranges) { varint(lo - prev, groups); varint(hi - lo, groups); prev = hi + 1; }
  }
  const fold: number[] = [];
  varint(t.fold.length, fold);
  let prev = 0;
  for (const e of t.fold) {
    varint(e.lo - prev, fold);
    varint(e.hi - e.lo, fold);
    // 0 and 1: pairs (EVEN_ODD, ODD_EVEN); otherwise the step, zig-zag encoded, plus two.
    varint(e.delta === EVEN_ODD ? 0 : e.delta === ODD_EVEN ? 1 : (e.delta >= 0 ? e.delta * 2 : -e.delta * 2 - 1) + 2, fold);
    prev = e.hi + 1;
  }
  return { groups, fold };
}

function bytesLiteral(bytes: number[]): string {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 32) lines.push('    ' + bytes.slice(i, i + 32).join(','));
  return lines.join(',\n');
}

export async function generateUnicodeTables(): Promise<string> {
  const { groups, fold } = encodeTables(await readTables());
  return `// Generated by cli/unicode-tables.ts from Unicode ${UNICODE_VERSION} (${PACKAGE}): do not edit.
// Layouts are described in unicode.ts.

export const UNICODE_VERSION = "${UNICODE_VERSION}";

// Functions, not constants: the data is laid out only in modules that call them.

/** ${groups.length} bytes: general categories and scripts, by name. */
export const GROUPS_LENGTH: i32 = ${groups.length};
export function groupsData(): usize {
  return memory.data<u8>([
${bytesLiteral(groups)},
  ]);
}

/** ${fold.length} bytes: case-folding orbits. */
export function foldData(): usize {
  return memory.data<u8>([
${bytesLiteral(fold)},
  ]);
}
`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(TABLES_FILE, await generateUnicodeTables());
  console.log(`wrote ${TABLES_FILE}`);
}
