// RE2's syntax to a tree. Classes are resolved here to sets of code points, with (?i) folding
// and negation applied in RE2's order; the compiler only sees literals, sets and structure.
// One file for the whole grammar (longer than the kit's other modules): its rules refer to each
// other, and RE2's corner cases (where a "{" is literal, how \Q...\E meets a repetition) read
// best side by side.
import { MAX_RUNE, RangeSet } from "./ranges";
import { addFolded, unicodeGroup } from "./unicode";

export const NODE_EMPTY: u8 = 0;
export const NODE_CHAR: u8 = 1;
export const NODE_CLASS: u8 = 2;
export const NODE_CONCAT: u8 = 3;
export const NODE_ALT: u8 = 4;
export const NODE_REPEAT: u8 = 5;
export const NODE_ASSERT: u8 = 6;
export const NODE_ANY_BYTE: u8 = 7;

export const ASSERT_BEGIN_TEXT: u8 = 0;
export const ASSERT_END_TEXT: u8 = 1;
export const ASSERT_BEGIN_LINE: u8 = 2;
export const ASSERT_END_LINE: u8 = 3;
export const ASSERT_WORD_BOUNDARY: u8 = 4;
export const ASSERT_NOT_WORD_BOUNDARY: u8 = 5;

/** RE2's limit on a counted repetition. */
const MAX_REPEAT: i32 = 1000;
export class Node {
  kind: u8 = NODE_EMPTY;
  /** NODE_CHAR: the code point. NODE_ASSERT: which assertion. */
  c: i32 = 0;
  set: RangeSet | null = null;
  children: Node[] = [];
  min: i32 = 0;
  /** -1: unbounded. */
  max: i32 = 0;
  /** \Q...\E text: its characters join the enclosing sequence one by one. */
  quoted: bool = false;
  /** The largest product of nested counted repetitions in this node (RE2's repetition size). */
  weight: i32 = 1;
}

export function isWordChar(c: i32): bool {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95;
}

/** \d \w \s (lower case) as sets; null for other letters. */
function perlGroup(lower: i32): RangeSet | null {
  const s = new RangeSet();
  if (lower == 100) s.add(48, 57);
  else if (lower == 119) { s.add(48, 57); s.add(65, 90); s.add(95, 95); s.add(97, 122); }
  else if (lower == 115) { s.add(9, 10); s.add(12, 13); s.add(32, 32); }
  else return null;
  return s;
}

function posixGroup(name: string): RangeSet | null {
  const s = new RangeSet();
  if (name == "alpha") { s.add(65, 90); s.add(97, 122); }
  else if (name == "digit") s.add(48, 57);
  else if (name == "alnum") { s.add(48, 57); s.add(65, 90); s.add(97, 122); }
  else if (name == "upper") s.add(65, 90);
  else if (name == "lower") s.add(97, 122);
  else if (name == "space") { s.add(9, 13); s.add(32, 32); }
  else if (name == "xdigit") { s.add(48, 57); s.add(65, 70); s.add(97, 102); }
  else if (name == "word") { s.add(48, 57); s.add(65, 90); s.add(95, 95); s.add(97, 122); }
  else if (name == "punct") { s.add(33, 47); s.add(58, 64); s.add(91, 96); s.add(123, 126); }
  else if (name == "blank") { s.add(9, 9); s.add(32, 32); }
  else if (name == "cntrl") { s.add(0, 31); s.add(127, 127); }
  else if (name == "print") s.add(32, 126);
  else if (name == "graph") s.add(33, 126);
  else if (name == "ascii") s.add(0, 127);
  else return null;
  return s;
}

// How (?i) widens a class: not at all, by Unicode's simple case folding (UTF-8), or by ASCII
// letters only (Latin-1: RE2 folds no other Latin-1 letter there; measured in Envoy).
const FOLD_NONE: i32 = 0;
const FOLD_UNICODE: i32 = 1;
const FOLD_ASCII: i32 = 2;

function addRange(dst: RangeSet, lo: i32, hi: i32, fold: i32): void {
  if (fold == FOLD_UNICODE) { addFolded(dst, lo, hi); return; }
  dst.add(lo, hi);
  if (fold == FOLD_ASCII) {
    // The other case of the letters in [lo, hi].
    const upperLo = max(lo, 65);
    const upperHi = min(hi, 90);
    if (upperLo <= upperHi) dst.add(upperLo + 32, upperHi + 32);
    const lowerLo = max(lo, 97);
    const lowerHi = min(hi, 122);
    if (lowerLo <= lowerHi) dst.add(lowerLo - 32, lowerHi - 32);
  }
}

/**
 * Adds a group (Perl, POSIX or Unicode) to `dst` as RE2 does: folded under (?i), and when
 * negated, the complement of the folded group.
 */
function addGroup(dst: RangeSet, group: RangeSet, negate: bool, fold: i32): void {
  if (!negate) {
    for (let i = 0; i < group.count; i++) addRange(dst, group.lo(i), group.hi(i), fold);
    return;
  }
  let source = group;
  if (fold != FOLD_NONE) {
    source = new RangeSet();
    for (let i = 0; i < group.count; i++) addRange(source, group.lo(i), group.hi(i), fold);
  }
  dst.addSet(source.negated());
}

export class Parser {
  pos: i32 = 0;
  error: string = "";
  fold: bool = false;
  dotAll: bool = false;
  multiLine: bool = false;
  groupNames: string[] = [];

  /** `maxRune`: 0xFF when the pattern is Latin-1, where escapes past a byte are errors. */
  constructor(public p: string, public maxRune: i32) {}

  fail(message: string, at: i32 = -1): Node | null {
    if (this.error.length == 0) this.error = message + " at position " + (at < 0 ? this.pos : at).toString();
    return null;
  }

  more(): bool { return this.pos < this.p.length; }

  get foldMode(): i32 { return !this.fold ? FOLD_NONE : this.maxRune == 0xff ? FOLD_ASCII : FOLD_UNICODE; }
  peek(): i32 { return this.p.charCodeAt(this.pos); }

  /** The code point whose first unit `c` was just consumed (a surrogate pair is one character). */
  codePointFrom(c: i32): i32 {
    if (c >= 0xd800 && c < 0xdc00 && this.more()) {
      const low = this.peek();
      if (low >= 0xdc00 && low < 0xe000) { this.pos++; return 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00); }
    }
    return c;
  }

  /**
   * The whole pattern. Iterative: an open group is a frame on a heap-allocated stack, so no
   * nesting depth can exhaust the Wasm stack (RE2 takes any depth too).
   */
  parse(): Node | null {
    const frames = new Array<Frame>();
    let items = new Array<Node>();
    let branches = new Array<Node>();
    while (true) {
      if (!this.more() || this.peek() == 124 || this.peek() == 41) {
        branches.push(concatOf(items));
        items = new Array<Node>();
        if (this.more() && this.peek() == 124) { this.pos++; continue; }
        const alternation = alternationOf(branches);
        if (frames.length == 0) return alternation; // at the end, or an unmatched ")" the caller reports
        if (!this.more()) return this.fail("missing closing )", frames[frames.length - 1].start);
        this.pos++;
        const frame = frames.pop();
        this.fold = frame.fold;
        this.dotAll = frame.dotAll;
        this.multiLine = frame.multiLine;
        items = frame.items;
        branches = frame.branches;
        const group = this.parseQuantifier(alternation, frame.start);
        if (group === null) return null;
        items.push(group);
        continue;
      }
      const atomStart = this.pos;
      if (this.peek() == 40) {
        const saved = new Frame(items, branches, atomStart, this.fold, this.dotAll, this.multiLine);
        const opened = this.groupStart();
        if (this.error.length > 0) return null;
        if (!opened) continue; // (?flags): they hold until the enclosing group ends
        frames.push(saved);
        items = new Array<Node>();
        branches = new Array<Node>();
        continue;
      }
      let atom = this.parseAtom();
      if (atom === null) return null;
      if (atom.quoted) {
        // A repetition after \Q...\E applies to its last character, as in RE2 (after an empty
        // one, to what came before it).
        const chars = atom.children;
        if (chars.length == 0) {
          if (items.length == 0 || !this.more() || !isQuantifier(this.peek())) continue;
          const repeated = this.parseQuantifier(items.pop(), atomStart);
          if (repeated === null) return null;
          items.push(repeated);
          continue;
        }
        for (let i = 0; i < chars.length - 1; i++) items.push(chars[i]);
        atom = chars[chars.length - 1];
      }
      const repeated = this.parseQuantifier(atom, atomStart);
      if (repeated === null) return null;
      items.push(repeated);
    }
  }

  parseQuantifier(atom: Node, atomStart: i32): Node | null {
    while (this.more()) {
      const c = this.peek();
      let min = -1;
      let max = -1;
      const at = this.pos;
      if (c == 42) { min = 0; max = -1; this.pos++; }
      else if (c == 43) { min = 1; max = -1; this.pos++; }
      else if (c == 63) { min = 0; max = 1; this.pos++; }
      else if (c == 123) {
        const saved = this.pos;
        const bounds = this.parseBraces();
        if (bounds === null) {
          if (this.error.length > 0) return null;
          this.pos = saved; // a literal "{" (RE2 treats unparseable braces as literal)
          break;
        }
        min = bounds[0];
        max = bounds[1];
      } else break;
      // RE2 repeats an empty group or an assertion (they match the empty string), but not a repetition.
      if (atom.kind == NODE_REPEAT) return this.fail("bad repetition operator", at);
      if (this.more() && this.peek() == 63) this.pos++; // lazy: same language
      if (this.more() && this.peek() == 43) return this.fail("possessive repetition is not supported (RE2 syntax)");
      const rep = new Node();
      rep.kind = NODE_REPEAT;
      rep.children = [atom];
      rep.min = min;
      rep.max = max;
      // RE2 refuses counted repetitions whose nesting multiplies past its limit: (a{10}){101}.
      const count = max < 0 ? min : max;
      rep.weight = (count > 1 ? count : 1) * atom.weight;
      if (c == 123 && rep.weight > MAX_REPEAT) return this.fail("invalid repetition size " + this.p.substring(at, this.pos), at);
      atom = rep;
    }
    return atom;
  }

  /** Parses {n}, {n,} or {n,m}; null (without error) when the text is not a repetition. */
  parseBraces(): i32[] | null {
    const start = this.pos;
    this.pos++;
    const min = this.parseInt();
    if (min < 0) { this.pos = start; return null; }
    let max = min;
    if (this.more() && this.peek() == 44) {
      this.pos++;
      if (this.more() && this.peek() == 125) max = -1;
      else {
        max = this.parseInt();
        if (max < 0) { this.pos = start; return null; }
      }
    }
    if (!this.more() || this.peek() != 125) { this.pos = start; return null; }
    this.pos++;
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && max < min)) { this.fail("invalid repetition size " + this.p.substring(start, this.pos), start); return null; }
    return [min, max];
  }

  parseInt(): i32 {
    let n = -1;
    while (this.more()) {
      const c = this.peek();
      if (c < 48 || c > 57) break;
      n = (n < 0 ? 0 : n) * 10 + (c - 48);
      if (n > 100000) n = 100000;
      this.pos++;
    }
    return n;
  }

  /** An atom other than a group. */
  parseAtom(): Node | null {
    const c = this.peek();
    const start = this.pos;
    if (c == 42 || c == 43 || c == 63) return this.fail("no argument for repetition operator");
    if (c == 123) {
      const bounds = this.parseBraces();
      if (bounds !== null) return this.fail("no argument for repetition operator", start);
      if (this.error.length > 0) return null;
    }
    this.pos++;
    if (c == 46) {
      const any = new RangeSet();
      if (this.dotAll) any.add(0, MAX_RUNE);
      else { any.add(0, 9); any.add(11, MAX_RUNE); }
      return classNode(any);
    }
    if (c == 94) return assertNode(this.multiLine ? ASSERT_BEGIN_LINE : ASSERT_BEGIN_TEXT);
    if (c == 36) return assertNode(this.multiLine ? ASSERT_END_LINE : ASSERT_END_TEXT);
    if (c == 91) { this.pos = start; return this.parseClass(); }
    if (c == 92) return this.parseEscape(start);
    return this.literal(this.codePointFrom(c));
  }

  /** A literal character; under (?i), the class of everything it folds with. */
  literal(c: i32): Node {
    if (this.fold) {
      const set = new RangeSet();
      addRange(set, c, c, this.foldMode);
      if (set.count > 1 || set.lo(0) != set.hi(0)) return classNode(set);
    }
    const node = new Node();
    node.kind = NODE_CHAR;
    node.c = c;
    return node;
  }

  /**
   * Reads a group's opening: "(", "(?:", "(?P<name>", "(?flags:" (setting the group's flags) or
   * a flags-only "(?flags)" (setting them for the rest of the enclosing group; returns false).
   */
  groupStart(): bool {
    const start = this.pos;
    this.pos++;
    if (this.more() && this.peek() == 63) {
      this.pos++;
      if (!this.more()) { this.fail("missing argument after (?", start); return false; }
      const c = this.peek();
      if (c == 61 || c == 33) { this.fail("lookahead (?" + String.fromCharCode(c) + " is not supported (RE2 syntax)", start); return false; }
      if (c == 60 && this.pos + 1 < this.p.length && (this.p.charCodeAt(this.pos + 1) == 61 || this.p.charCodeAt(this.pos + 1) == 33)) {
        this.fail("lookbehind is not supported (RE2 syntax)", start);
        return false;
      }
      if (c == 80 || c == 60) {
        // (?P<name>...) or (?<name>...): a capture group; captures do not change what matches.
        if (c == 80) this.pos++;
        if (!this.more() || this.peek() != 60) { this.fail("invalid named capture group", start); return false; }
        const close = this.p.indexOf(">", this.pos);
        const name = close < 0 ? "" : this.p.substring(this.pos + 1, close);
        if (!validGroupName(name)) { this.fail("invalid named capture group", start); return false; }
        if (this.groupNames.includes(name)) { this.fail("duplicate capture group name", start); return false; }
        this.groupNames.push(name);
        this.pos = close + 1;
      } else {
        // Flags: (?i) (?s) (?m) (?U) (?is-m) or (?i:...)
        let on = true;
        let flagsAfterMinus = 0;
        let fold = this.fold;
        let dotAll = this.dotAll;
        let multiLine = this.multiLine;
        while (this.more() && this.peek() != 41 && this.peek() != 58) {
          const f = this.peek();
          if (f == 45) {
            if (!on) { this.fail("invalid or missing flags", start); return false; }
            on = false;
          } else if (f == 105) fold = on;
          else if (f == 115) dotAll = on;
          else if (f == 109) multiLine = on;
          else if (f == 85) { /* ungreedy: the same strings match */ }
          else { this.fail("invalid or unsupported flag '" + String.fromCharCode(f) + "'", this.pos); return false; }
          if (f != 45 && !on) flagsAfterMinus++;
          this.pos++;
        }
        if (!this.more()) { this.fail("missing closing )", start); return false; }
        if (!on && flagsAfterMinus == 0) { this.fail("invalid or missing flags", start); return false; }
        if (this.peek() == 41) {
          // (?flags) holds until the end of the enclosing group.
          this.pos++;
          this.fold = fold;
          this.dotAll = dotAll;
          this.multiLine = multiLine;
          return false;
        }
        this.pos++; // ':'
        this.fold = fold;
        this.dotAll = dotAll;
        this.multiLine = multiLine;
      }
    }
    return true;
  }

  parseEscape(start: i32): Node | null {
    if (!this.more()) return this.fail("trailing backslash at end of expression", start);
    const e = this.peek();
    this.pos++;
    if (e >= 49 && e <= 57 && !(e <= 55 && this.more() && this.peek() >= 48 && this.peek() <= 55)) {
      return this.fail("backreferences are not supported (RE2 syntax)", start);
    }
    const perl = perlGroup(e | 32);
    if (perl !== null) {
      const set = new RangeSet();
      addGroup(set, perl, e != (e | 32), this.foldMode);
      return classNode(set);
    }
    if (e == 112 || e == 80) {
      const set = new RangeSet();
      if (!this.unicodeClass(set, e == 80, start)) return null;
      return classNode(set);
    }
    if (e == 98) return assertNode(ASSERT_WORD_BOUNDARY);
    if (e == 66) return assertNode(ASSERT_NOT_WORD_BOUNDARY);
    if (e == 65) return assertNode(ASSERT_BEGIN_TEXT);
    if (e == 122) return assertNode(ASSERT_END_TEXT);
    if (e == 67) { const node = new Node(); node.kind = NODE_ANY_BYTE; return node; }
    if (e == 81) return this.quoted();
    const literal = this.escapedLiteral(e, start);
    if (literal < 0) return null;
    return this.literal(literal);
  }

  /** \pL, \p{Greek}, \p{^Greek} (after \p or \P): adds the group to `set`. */
  unicodeClass(set: RangeSet, negate: bool, start: i32): bool {
    if (!this.more()) { this.fail("invalid character class range", start); return false; }
    let name: string;
    if (this.peek() == 123) {
      const close = this.p.indexOf("}", this.pos);
      if (close < 0) { this.fail("invalid character class range", start); return false; }
      name = this.p.substring(this.pos + 1, close);
      this.pos = close + 1;
    } else {
      name = String.fromCharCode(this.peek());
      this.pos++;
    }
    if (name.startsWith("^")) { negate = !negate; name = name.substring(1); }
    const group = unicodeGroup(name);
    if (group === null) { this.fail("invalid character class range \\p{" + name + "}", start); return false; }
    addGroup(set, group, negate, this.foldMode);
    return true;
  }

  /** \Q...\E: the text up to \E (or the end) taken literally. */
  quoted(): Node | null {
    const end = this.p.indexOf("\\E", this.pos);
    const stop = end < 0 ? this.p.length : end;
    const concat = new Node();
    concat.kind = NODE_CONCAT;
    while (this.pos < stop) {
      const c = this.peek();
      this.pos++;
      concat.children.push(this.literal(this.codePointFrom(c)));
    }
    this.pos = end < 0 ? stop : end + 2;
    concat.quoted = true;
    return concat;
  }

  /** The code point an escape stands for (the escape letter already consumed), or -1 on error. */
  escapedLiteral(e: i32, start: i32): i32 {
    if (e == 110) return 10;
    if (e == 116) return 9;
    if (e == 114) return 13;
    if (e == 102) return 12;
    if (e == 118) return 11;
    if (e == 97) return 7;
    if (e >= 48 && e <= 55) {
      // Octal: \0 and up to two more digits, or \1-\7 followed by at least one more.
      let value = e - 48;
      for (let i = 0; i < 2 && this.more() && this.peek() >= 48 && this.peek() <= 55; i++) { value = value * 8 + (this.peek() - 48); this.pos++; }
      if (value > this.maxRune) { this.fail("invalid escape sequence", start); return -1; }
      return value;
    }
    if (e == 120) {
      if (this.more() && this.peek() == 123) {
        // \x{10FFFF}
        this.pos++;
        let value = 0;
        let digits = 0;
        while (this.more() && this.peek() != 125) {
          const h = hexDigit(this.peek());
          if (h < 0 || value > this.maxRune) { this.fail("invalid escape sequence", start); return -1; }
          value = value * 16 + h;
          digits++;
          this.pos++;
        }
        if (!this.more() || digits == 0 || value > this.maxRune) { this.fail("invalid escape sequence", start); return -1; }
        this.pos++;
        return value;
      }
      let value = 0;
      for (let i = 0; i < 2; i++) {
        if (!this.more()) { this.fail("invalid escape sequence", start); return -1; }
        const h = hexDigit(this.peek());
        if (h < 0) { this.fail("invalid escape sequence", start); return -1; }
        value = value * 16 + h;
        this.pos++;
      }
      return value;
    }
    const isLetterOrDigit = (e >= 48 && e <= 57) || (e >= 65 && e <= 90) || (e >= 97 && e <= 122);
    if (isLetterOrDigit) {
      this.fail("invalid escape sequence \\" + String.fromCharCode(e), start);
      return -1;
    }
    return this.codePointFrom(e);
  }

  parseClass(): Node | null {
    const start = this.pos;
    this.pos++;
    const set = new RangeSet();
    let negated = false;
    if (this.more() && this.peek() == 94) { negated = true; this.pos++; }
    let first = true;
    while (true) {
      if (!this.more()) return this.fail("missing closing ]", start);
      let c = this.peek();
      if (c == 93 && !first) { this.pos++; break; }
      first = false;
      if (c == 91 && this.pos + 1 < this.p.length && this.p.charCodeAt(this.pos + 1) == 58) {
        const close = this.p.indexOf(":]", this.pos + 2);
        if (close < 0) return this.fail("missing closing :]", this.pos);
        let name = this.p.substring(this.pos + 2, close);
        let negate = false;
        if (name.startsWith("^")) { negate = true; name = name.substring(1); }
        const posix = posixGroup(name);
        if (posix === null) return this.fail("invalid character class range [:" + name + ":]", this.pos);
        addGroup(set, posix, negate, this.foldMode);
        this.pos = close + 2;
        continue;
      }
      const itemStart = this.pos;
      let lo: i32;
      if (c == 92) {
        this.pos++;
        if (!this.more()) return this.fail("trailing backslash at end of expression", itemStart);
        const e = this.peek();
        this.pos++;
        const perl = perlGroup(e | 32);
        if (perl !== null) { addGroup(set, perl, e != (e | 32), this.foldMode); continue; }
        if (e == 112 || e == 80) {
          if (!this.unicodeClass(set, e == 80, itemStart)) return null;
          continue;
        }
        lo = this.escapedLiteral(e, itemStart);
        if (lo < 0) return null;
      } else {
        this.pos++;
        lo = this.codePointFrom(c);
      }
      let hi = lo;
      if (this.pos + 1 < this.p.length && this.peek() == 45 && this.p.charCodeAt(this.pos + 1) != 93) {
        this.pos++;
        c = this.peek();
        this.pos++;
        if (c == 92) {
          if (!this.more()) return this.fail("trailing backslash at end of expression", itemStart);
          const e = this.peek();
          this.pos++;
          hi = this.escapedLiteral(e, itemStart);
          if (hi < 0) return null;
        } else {
          hi = this.codePointFrom(c);
        }
        if (hi < lo) return this.fail("invalid character class range", itemStart);
      }
      addRange(set, lo, hi, this.foldMode);
    }
    return classNode(negated ? set.negated() : set);
  }
}

/** An open group: what the enclosing group had parsed, and its flags to restore at ")". */
class Frame {
  constructor(public items: Node[], public branches: Node[], public start: i32, public fold: bool, public dotAll: bool, public multiLine: bool) {}
}

function concatOf(items: Node[]): Node {
  const concat = new Node();
  concat.kind = NODE_CONCAT;
  concat.children = items;
  for (let i = 0; i < items.length; i++) concat.weight = max(concat.weight, items[i].weight);
  return concat;
}

function alternationOf(branches: Node[]): Node {
  if (branches.length == 1) return branches[0];
  const alt = new Node();
  alt.kind = NODE_ALT;
  alt.children = branches;
  for (let i = 0; i < branches.length; i++) alt.weight = max(alt.weight, branches[i].weight);
  return alt;
}

function classNode(set: RangeSet): Node {
  const node = new Node();
  node.kind = NODE_CLASS;
  node.set = set;
  return node;
}

function assertNode(which: u8): Node {
  const node = new Node();
  node.kind = NODE_ASSERT;
  node.c = which;
  return node;
}

function isQuantifier(c: i32): bool { return c == 42 || c == 43 || c == 63 || c == 123; }

function validGroupName(name: string): bool {
  if (name.length == 0) return false;
  for (let i = 0; i < name.length; i++) if (!isWordChar(name.charCodeAt(i))) return false;
  return true;
}

function hexDigit(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
