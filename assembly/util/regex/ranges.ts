// Sets of code points, as the parser builds character classes.

export const MAX_RUNE: i32 = 0x10ffff;

/** Sorted, disjoint, non-adjacent [lo, hi] ranges, flattened: lo0, hi0, lo1, hi1, ... */
export class RangeSet {
  r: Array<i32> = [];

  get count(): i32 { return this.r.length >> 1; }
  lo(i: i32): i32 { return unchecked(this.r[i << 1]); }
  hi(i: i32): i32 { return unchecked(this.r[(i << 1) + 1]); }

  /** Adds [lo, hi]; false when every code point in it was already present. */
  add(lo: i32, hi: i32): bool {
    const n = this.count;
    if (n == 0 || lo > this.hi(n - 1) + 1) { this.r.push(lo); this.r.push(hi); return true; }
    // The first range that reaches lo (or ends just before it).
    let a = 0;
    let b = n;
    while (a < b) {
      const m = (a + b) >> 1;
      if (this.hi(m) + 1 < lo) a = m + 1; else b = m;
    }
    const first = a;
    if (this.lo(first) <= lo && this.hi(first) >= hi) return false;
    let last = first;
    while (last < n && this.lo(last) <= hi + 1) last++;
    if (last == first) {
      this.insertAt(first, lo, hi);
      return true;
    }
    const newLo = min(lo, this.lo(first));
    const newHi = max(hi, this.hi(last - 1));
    this.r.splice((first + 1) << 1, (last - first - 1) << 1);
    this.r[first << 1] = newLo;
    this.r[(first << 1) + 1] = newHi;
    return true;
  }

  private insertAt(i: i32, lo: i32, hi: i32): void {
    // Array has no insert: grow by two and shift the tail.
    this.r.push(0);
    this.r.push(0);
    for (let k = this.r.length - 1; k >= (i << 1) + 2; k--) this.r[k] = this.r[k - 2];
    this.r[i << 1] = lo;
    this.r[(i << 1) + 1] = hi;
  }

  /** The set of arbitrary [lo, hi] pairs (flattened), sorted and merged in one pass. */
  static of(pairs: i32[]): RangeSet {
    const keys = new StaticArray<i64>(pairs.length >> 1);
    for (let i = 0; i < keys.length; i++) keys[i] = (<i64>pairs[i << 1] << 32) | <i64>pairs[(i << 1) + 1];
    keys.sort();
    const out = new RangeSet();
    for (let i = 0; i < keys.length; i++) out.add(<i32>(keys[i] >> 32), <i32>(keys[i] & 0xffffffff));
    return out;
  }

  addSet(other: RangeSet): void {
    for (let i = 0; i < other.count; i++) this.add(other.lo(i), other.hi(i));
  }

  contains(c: i32): bool {
    let a = 0;
    let b = this.count;
    while (a < b) {
      const m = (a + b) >> 1;
      if (this.hi(m) < c) a = m + 1; else b = m;
    }
    return a < this.count && this.lo(a) <= c;
  }

  /** Every code point up to U+10FFFF not in this set. */
  negated(): RangeSet {
    const out = new RangeSet();
    let next = 0;
    for (let i = 0; i < this.count; i++) {
      if (this.lo(i) > next) { out.r.push(next); out.r.push(this.lo(i) - 1); }
      next = this.hi(i) + 1;
    }
    if (next <= MAX_RUNE) { out.r.push(next); out.r.push(MAX_RUNE); }
    return out;
  }
}
