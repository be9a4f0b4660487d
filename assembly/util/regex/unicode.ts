// RE2's Unicode classes (\pL, \p{Greek}) and case folding, read from the generated tables.
//
// groupsData() holds one record per group: name length (u8), the name (ASCII), the number of ranges
// (varint), then per range the gap since the previous range's end and the range's length minus
// one (varints). The 29 general-category leaves come first; \pL and the other one-letter
// categories are unions of the leaves that start with their letter.
//
// foldData() holds the number of entries (varint), then per entry the gap since the previous entry,
// its length minus one, and its step: 0 and 1 for pairs that map to each other (even to odd,
// odd to even), otherwise the zig-zag encoded step plus two. Each code point steps to the next
// member of its fold orbit (k -> K -> U+212A KELVIN SIGN -> k).
import { GROUPS_LENGTH, foldData, groupsData } from "./unicode-tables";
import { MAX_RUNE, RangeSet } from "./ranges";

const CATEGORY_LEAVES: i32 = 29;
const EVEN_ODD: i32 = 1 << 30;
const ODD_EVEN: i32 = -(1 << 30);

let cursor: usize = 0;

function varint(): i32 {
  let value: u32 = 0;
  let shift: u32 = 0;
  while (true) {
    const b = <u32>load<u8>(cursor++);
    value |= (b & 0x7f) << shift;
    if (b < 0x80) return <i32>value;
    shift += 7;
  }
}

function nameIs(at: usize, length: i32, name: string): bool {
  if (length != name.length) return false;
  for (let i = 0; i < length; i++) if (<i32>load<u8>(at + i) != name.charCodeAt(i)) return false;
  return true;
}

/** Appends the ranges of the record at `cursor` to `out` (or skips them when out is null). */
function readRanges(out: i32[] | null): void {
  const count = varint();
  let prev = 0;
  for (let i = 0; i < count; i++) {
    const lo = prev + varint();
    const hi = lo + varint();
    if (out !== null) { out.push(lo); out.push(hi); }
    prev = hi + 1;
  }
}

// Module state is created on first use: a module that never compiles a regex carries none of it.
let groups: Map<string, RangeSet> | null = null;

/**
 * The code points of the Unicode group RE2 calls `name` (a general category such as Lu or L, a
 * script such as Greek, or Any), or null when RE2 has no such group. Shared: do not modify.
 */
export function unicodeGroup(name: string): RangeSet | null {
  if (groups === null) groups = new Map<string, RangeSet>();
  const known = groups!;
  if (known.has(name)) return known.get(name);
  const group = readGroup(name);
  if (group !== null) known.set(name, group);
  return group;
}

function readGroup(name: string): RangeSet | null {
  if (name == "Any") { const any = new RangeSet(); any.add(0, MAX_RUNE); return any; }
  const out = new Array<i32>();
  cursor = groupsData();
  const end = cursor + <usize>GROUPS_LENGTH;
  let found = false;
  for (let record = 0; cursor < end; record++) {
    const length = <i32>load<u8>(cursor++);
    const at = cursor;
    cursor += <usize>length;
    const composite = name.length == 1 && record < CATEGORY_LEAVES && <i32>load<u8>(at) == name.charCodeAt(0);
    const match = composite || nameIs(at, length, name);
    readRanges(match ? out : null);
    if (match) found = true;
    if (match && !composite) break;
  }
  return found ? RangeSet.of(out) : null;
}

// ---- case folding ------------------------------------------------------------------------------

let foldLo: StaticArray<i32> | null = null;
let foldHi: StaticArray<i32> | null = null;
let foldDelta: StaticArray<i32> | null = null;

function loadFold(): void {
  if (foldLo !== null) return;
  cursor = foldData();
  const n = varint();
  const los = new StaticArray<i32>(n);
  const his = new StaticArray<i32>(n);
  const deltas = new StaticArray<i32>(n);
  foldLo = los;
  foldHi = his;
  foldDelta = deltas;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const lo = prev + varint();
    const hi = lo + varint();
    const step = varint();
    los[i] = lo;
    his[i] = hi;
    deltas[i] = step == 0 ? EVEN_ODD : step == 1 ? ODD_EVEN : (step - 2) & 1 ? -((step - 1) >> 1) : (step - 2) >> 1;
    prev = hi + 1;
  }
}

/** The first fold entry that ends at or after c. */
function firstFoldEntry(his: StaticArray<i32>, c: i32): i32 {
  let a = 0;
  let b = his.length;
  while (a < b) {
    const m = (a + b) >> 1;
    if (unchecked(his[m]) < c) a = m + 1; else b = m;
  }
  return a;
}

/**
 * Adds [lo, hi] and everything that case-folds to a code point in it, as RE2 does under (?i):
 * a range already present is not folded again, and folding stops ten steps deep (orbits are
 * at most four long).
 */
export function addFolded(set: RangeSet, lo: i32, hi: i32, depth: i32 = 0): void {
  if (depth > 10 || !set.add(lo, hi)) return;
  loadFold();
  const los = foldLo!;
  const his = foldHi!;
  const deltas = foldDelta!;
  for (let i = firstFoldEntry(his, lo); i < los.length && lo <= hi; i++) {
    const entryLo = unchecked(los[i]);
    const entryHi = unchecked(his[i]);
    if (entryLo > hi) break;
    if (lo < entryLo) lo = entryLo;
    let lo1 = lo;
    let hi1 = min(hi, entryHi);
    const delta = unchecked(deltas[i]);
    if (delta == EVEN_ODD) {
      if (lo1 & 1) lo1--;
      if (!(hi1 & 1)) hi1++;
    } else if (delta == ODD_EVEN) {
      if (!(lo1 & 1)) lo1--;
      if (hi1 & 1) hi1++;
    } else {
      lo1 += delta;
      hi1 += delta;
    }
    addFolded(set, lo1, hi1, depth + 1);
    lo = entryHi + 1;
  }
}
