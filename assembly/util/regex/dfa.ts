// A lazily built DFA over bytes, as RE2's: each state is the set of program positions alive
// before a byte plus what the previous byte was (for ^ $ \b in their forms), built the first
// time a (state, byte class) pair is met and cached. Time is linear in the input whatever the
// pattern; the cache is bounded, and starts over when full, so memory is bounded too.
import { Inst, OP_ASSERT, OP_BYTES, OP_JMP, OP_MATCH, OP_SPLIT } from "./program";
import {
  ASSERT_BEGIN_LINE, ASSERT_BEGIN_TEXT, ASSERT_END_LINE, ASSERT_END_TEXT, ASSERT_NOT_WORD_BOUNDARY, ASSERT_WORD_BOUNDARY, isWordChar,
} from "./parser";

const AT_START: i32 = 1;
const AFTER_WORD: i32 = 2;
const AFTER_NEWLINE: i32 = 4;
/** The end of the text, where a byte would be. */
const END: i32 = -1;

/** Cache bounds: transition entries (4 bytes each) and the code units of all state keys. */
const MAX_ENTRIES: i32 = 1 << 16;
const MAX_KEY_UNITS: i32 = 1 << 17;

// A transition entry: the next state << 2, DEAD when no thread is left (anchored runs), MATCHED
// when a match ended before the byte (searches).
const MATCHED: i32 = 1;
const DEAD: i32 = 2;
const UNKNOWN: i32 = -1;

/** What feed() returns once the answer is known. */
export const FED_MATCH: i32 = -1;
export const FED_DEAD: i32 = -2;

/** The whole input must match. */
export const MODE_WHOLE: i32 = 0;
/** A match may start and end anywhere (a new thread at every byte). */
export const MODE_SEARCH: i32 = 1;
/** A match starts at the beginning and may end anywhere. */
export const MODE_PREFIX: i32 = 2;

export class Dfa {
  private readonly classOf: StaticArray<u8> = new StaticArray<u8>(256);
  private readonly representative: i32[] = [];
  private readonly classes: i32;
  private states: Map<string, i32> = new Map<string, i32>();
  /** Per state: its flags (first unit) and alive program positions, as a string (the map's key). */
  private keys: string[] = [];
  private keyUnits: i32 = 0;
  private table: i32[] = [];
  private endMatch: i8[] = [];
  /** Start states by flags, -1 until built. */
  private readonly startStates: StaticArray<i32> = noStates();
  // Work space for building a transition, sized by the program.
  private readonly seen: StaticArray<i32>;
  private readonly added: StaticArray<i32>;
  private readonly stack: StaticArray<i32>;
  private readonly next: StaticArray<i32>;
  private generation: i32 = 0;

  private readonly restart: bool;
  private readonly endsAnywhere: bool;

  constructor(private readonly prog: Inst[], mode: i32) {
    this.restart = mode == MODE_SEARCH;
    this.endsAnywhere = mode != MODE_WHOLE;
    const n = prog.length;
    this.seen = new StaticArray<i32>(n);
    this.added = new StaticArray<i32>(n);
    this.stack = new StaticArray<i32>(n * 2 + 2);
    this.next = new StaticArray<i32>(n + 1);
    // Bytes no instruction or assertion tells apart share a class and a column of the table.
    const edge = new StaticArray<bool>(257);
    edge[0] = true;
    for (let pc = 0; pc < n; pc++) {
      const inst = prog[pc];
      if (inst.op == OP_BYTES) {
        const r = inst.ranges!;
        for (let k = 0; k < r.length; k += 3) { edge[r[k]] = true; edge[r[k + 1] + 1] = true; }
      } else if (inst.op == OP_ASSERT) {
        if (inst.x == ASSERT_WORD_BOUNDARY || inst.x == ASSERT_NOT_WORD_BOUNDARY) {
          edge[48] = true; edge[58] = true; edge[65] = true; edge[91] = true; edge[95] = true; edge[96] = true; edge[97] = true; edge[123] = true;
        } else if (inst.x == ASSERT_BEGIN_LINE || inst.x == ASSERT_END_LINE) {
          edge[10] = true; edge[11] = true;
        }
      }
    }
    let cls = -1;
    for (let b = 0; b < 256; b++) {
      if (edge[b]) { cls++; this.representative.push(b); }
      this.classOf[b] = <u8>cls;
    }
    this.classes = cls + 1;
  }

  /**
   * Whether the program matches the bytes [from, end) (end < from: read backwards, for a
   * reversed program). `before` is the byte ahead of the first one read, -1 for none.
   */
  run(from: usize, end: usize, before: i32 = -1): bool {
    const s = this.feed(this.start(before), from, end);
    return s == FED_MATCH ? true : s == FED_DEAD ? false : this.matchesAtEnd(s);
  }

  /** The state before any byte; feed() bytes to it in pieces, then finish(). */
  begin(): i32 { return this.start(-1); }

  finish(s: i32): bool { return this.matchesAtEnd(s); }

  /** Reads [from, end) from state s: the state reached, or FED_MATCH / FED_DEAD when decided. */
  feed(s: i32, from: usize, end: usize): i32 {
    const classes = this.classes;
    const classOf = changetype<usize>(this.classOf);
    let table = this.table.dataStart;
    const step: isize = end >= from ? 1 : -1;
    for (let p = from; p != end; p += step) {
      const cls = <i32>load<u8>(classOf + <usize>load<u8>(p));
      let e = load<i32>(table + (<usize>(s * classes + cls) << 2));
      if (e == UNKNOWN) {
        e = this.transition(s, cls);
        table = this.table.dataStart; // the table may have grown or started over
      }
      if (e & (MATCHED | DEAD)) return (e & MATCHED) != 0 ? FED_MATCH : FED_DEAD;
      s = e >> 2;
    }
    return s;
  }

  /** The state before the first byte, by what came before it (-1: the start of the text). */
  private start(before: i32): i32 {
    const flags = before < 0 ? AT_START : flagsAfter(before);
    let s = unchecked(this.startStates[flags]);
    if (s < 0) {
      s = this.intern(String.fromCharCode(flags) + String.fromCharCode(0));
      unchecked(this.startStates[flags] = s);
    }
    return s;
  }

  private matchesAtEnd(s: i32): bool {
    let known = unchecked(this.endMatch[s]);
    if (known < 0) {
      known = this.step(this.keys[s], END) ? 1 : 0;
      this.endMatch[s] = known;
    }
    return known == 1;
  }

  /** Builds and caches the entry for state s on a byte of class cls. */
  private transition(s: i32, cls: i32): i32 {
    const b = this.representative[cls];
    const key = this.keys[s];
    const matched = this.step(key, b);
    let count = this.nextCount;
    const dead = count == 0 && !this.restart;
    const flags = dead ? 0 : flagsAfter(b);
    let nextKey = String.fromCharCode(flags);
    for (let i = 0; i < count; i++) nextKey += String.fromCharCode(unchecked(this.next[i]));
    if (!this.states.has(nextKey) && this.full(nextKey)) {
      this.reset();
      s = this.intern(key);
    }
    const target = this.intern(nextKey);
    const entry = (target << 2) | (dead ? DEAD : 0) | (matched && this.endsAnywhere ? MATCHED : 0);
    this.table[s * this.classes + cls] = entry;
    return entry;
  }

  private nextCount: i32 = 0;

  /**
   * Follows the state's threads through empty moves (evaluating assertions between the previous
   * byte and `b`) and over `b`; leaves the sorted positions reached in next[0, nextCount).
   * Returns whether a thread reached the match before `b`.
   */
  private step(key: string, b: i32): bool {
    const gen = ++this.generation;
    const flags = key.charCodeAt(0);
    const prog = this.prog;
    const stack = this.stack;
    let top = 0;
    for (let i = key.length - 1; i >= 1; i--) unchecked(stack[top++] = key.charCodeAt(i));
    let count = 0;
    let matched = false;
    while (top > 0) {
      const pc = unchecked(stack[--top]);
      if (unchecked(this.seen[pc]) == gen) continue;
      unchecked(this.seen[pc] = gen);
      const inst = unchecked(prog[pc]);
      switch (inst.op) {
        case OP_JMP: unchecked(stack[top++] = inst.x); break;
        case OP_SPLIT: unchecked(stack[top++] = inst.y); unchecked(stack[top++] = inst.x); break;
        case OP_MATCH: matched = true; break;
        case OP_ASSERT: if (holds(inst.x, flags, b)) unchecked(stack[top++] = pc + 1); break;
        case OP_BYTES: {
          if (b == END) break;
          const r = inst.ranges!;
          for (let k = 0; k < r.length; k += 3) {
            if (b < unchecked(r[k])) break;
            if (b <= unchecked(r[k + 1])) {
              const t = unchecked(r[k + 2]);
              if (unchecked(this.added[t]) != gen) { unchecked(this.added[t] = gen); unchecked(this.next[count++] = t); }
              break;
            }
          }
          break;
        }
      }
    }
    if (this.restart && b != END && unchecked(this.added[0]) != gen) { unchecked(this.added[0] = gen); unchecked(this.next[count++] = 0); }
    if (count <= 32) sortPrefix(this.next, count);
    else {
      // Many positions: collect them in order from the marks instead of sorting.
      count = 0;
      for (let pc = 0; pc < prog.length; pc++) if (unchecked(this.added[pc]) == gen) unchecked(this.next[count++] = pc);
    }
    this.nextCount = count;
    return matched;
  }

  private full(key: string): bool {
    return (this.keys.length + 1) * this.classes > MAX_ENTRIES || this.keyUnits + key.length > MAX_KEY_UNITS;
  }

  private reset(): void {
    this.states.clear();
    this.keys.length = 0;
    this.table.length = 0;
    this.endMatch.length = 0;
    this.keyUnits = 0;
    for (let i = 0; i < this.startStates.length; i++) this.startStates[i] = -1;
  }

  private intern(key: string): i32 {
    if (this.states.has(key)) return this.states.get(key);
    const id = this.keys.length;
    this.states.set(key, id);
    this.keys.push(key);
    this.keyUnits += key.length;
    for (let i = 0; i < this.classes; i++) this.table.push(UNKNOWN);
    this.endMatch.push(-1);
    return id;
  }
}

function noStates(): StaticArray<i32> {
  const states = new StaticArray<i32>((AT_START | AFTER_WORD | AFTER_NEWLINE) + 1);
  for (let i = 0; i < states.length; i++) states[i] = -1;
  return states;
}

function flagsAfter(b: i32): i32 {
  return (isWordChar(b) ? AFTER_WORD : 0) | (b == 10 ? AFTER_NEWLINE : 0);
}

function holds(which: i32, flags: i32, b: i32): bool {
  switch (which) {
    case ASSERT_BEGIN_TEXT: return (flags & AT_START) != 0;
    case ASSERT_END_TEXT: return b == END;
    case ASSERT_BEGIN_LINE: return (flags & (AT_START | AFTER_NEWLINE)) != 0;
    case ASSERT_END_LINE: return b == END || b == 10;
    case ASSERT_WORD_BOUNDARY: return ((flags & AFTER_WORD) != 0) != (b != END && isWordChar(b));
    case ASSERT_NOT_WORD_BOUNDARY: return ((flags & AFTER_WORD) != 0) == (b != END && isWordChar(b));
  }
  return false;
}

/** Insertion sort of a[0, n): few positions, mostly in order already. */
function sortPrefix(a: StaticArray<i32>, n: i32): void {
  for (let i = 1; i < n; i++) {
    const v = unchecked(a[i]);
    let j = i - 1;
    while (j >= 0 && unchecked(a[j]) > v) { unchecked(a[j + 1] = unchecked(a[j])); j--; }
    unchecked(a[j + 1] = v);
  }
}
