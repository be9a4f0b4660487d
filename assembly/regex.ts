// Regular expressions with RE2's syntax and guarantees, the dialect Envoy's safe_regex uses:
// matching takes time linear in the input (a Pike VM over a compiled NFA, no backtracking),
// and constructs RE2 rejects (backreferences, lookaround) are compile errors.
//
// Supported: literals and escapes (\n \t \r \f \v \a \xHH \x{H..} octal, \Q..\E, \C, escaped
// punctuation), `.`, classes [a-z] [^...] with \d \w \s and [:alpha:]-style POSIX names,
// \d \D \w \W \s \S, anchors ^ $ \A \z \b \B, groups ( ) (?: ) (?P<name> ), alternation,
// * + ? {n} {n,} {n,m} (lazy forms accepted; they match the same strings), and the flags i, s,
// m and U, scoped to their group. Text is matched by code point (a surrogate pair is one
// character); a byte that is not UTF-8 (a lone surrogate, see decodeUtf8Lossy) is a character
// only \C matches, as in RE2. Not yet as RE2: Unicode classes (\pL), case folding beyond ASCII,
// \C inside a valid multi-byte character.

const OP_CHAR: u8 = 0;
const OP_CLASS: u8 = 1;
const OP_ANY: u8 = 2;
const OP_ANY_NOT_NL: u8 = 3;
const OP_SPLIT: u8 = 4;
const OP_JMP: u8 = 5;
const OP_MATCH: u8 = 6;
const OP_BEGIN: u8 = 7;
const OP_END: u8 = 8;
const OP_WORD_BOUNDARY: u8 = 9;
const OP_NOT_WORD_BOUNDARY: u8 = 10;
const OP_ANY_BYTE: u8 = 13;
const OP_BEGIN_LINE: u8 = 11;
const OP_END_LINE: u8 = 12;

/** A byte that is not UTF-8 (a lone surrogate in the text): only \C matches it, as in RE2. */
const INVALID: i32 = -2;

/** RE2's limit on a counted repetition. */
const MAX_REPEAT: i32 = 1000;
/** Compiled programs larger than this are refused (RE2 refuses overly large programs too). */
const MAX_PROGRAM: i32 = 20000;

class Inst {
  constructor(public op: u8, public x: i32 = 0, public y: i32 = 0, public cls: CharClass | null = null, public fold: bool = false) {}
}

/** A set of code point ranges, possibly negated. */
class CharClass {
  ranges: i32[] = [];
  negated: bool = false;

  add(lo: i32, hi: i32): void { this.ranges.push(lo); this.ranges.push(hi); }

  addClass(other: CharClass): void {
    if (!other.negated) {
      for (let i = 0; i < other.ranges.length; i++) this.ranges.push(other.ranges[i]);
      return;
    }
    // Add the complement of other's ranges (only for \D \W \S inside brackets).
    const sorted = sortedRanges(other.ranges);
    let next = 0;
    for (let i = 0; i < sorted.length; i += 2) {
      if (sorted[i] > next) this.add(next, sorted[i] - 1);
      next = max(next, sorted[i + 1] + 1);
    }
    if (next <= 0x10ffff) this.add(next, 0x10ffff);
  }

  matches(c: i32, fold: bool): bool {
    let found = this.inRanges(c);
    if (!found && fold) {
      const other = swapCase(c);
      if (other != c) found = this.inRanges(other);
    }
    return found != this.negated;
  }

  private inRanges(c: i32): bool {
    for (let i = 0; i < this.ranges.length; i += 2) {
      if (c >= unchecked(this.ranges[i]) && c <= unchecked(this.ranges[i + 1])) return true;
    }
    return false;
  }
}

function sortedRanges(ranges: i32[]): i32[] {
  const pairs = new Array<i32>();
  const order = new Array<i32>();
  for (let i = 0; i < ranges.length; i += 2) order.push(i);
  // Insertion sort by range start: classes are small.
  for (let i = 1; i < order.length; i++) {
    const v = order[i];
    let j = i - 1;
    while (j >= 0 && ranges[order[j]] > ranges[v]) { order[j + 1] = order[j]; j--; }
    order[j + 1] = v;
  }
  for (let i = 0; i < order.length; i++) { pairs.push(ranges[order[i]]); pairs.push(ranges[order[i] + 1]); }
  return pairs;
}

function swapCase(c: i32): i32 {
  if (c >= 65 && c <= 90) return c + 32;
  if (c >= 97 && c <= 122) return c - 32;
  return c;
}

function isWordChar(c: i32): bool {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95;
}

function perlClass(letter: i32): CharClass | null {
  const cls = new CharClass();
  const lower = letter | 32;
  if (lower == 100) cls.add(48, 57);
  else if (lower == 119) { cls.add(48, 57); cls.add(65, 90); cls.add(97, 122); cls.add(95, 95); }
  else if (lower == 115) { cls.add(9, 10); cls.add(12, 13); cls.add(32, 32); }
  else return null;
  cls.negated = letter != lower;
  return cls;
}

function posixClass(name: string): CharClass | null {
  const cls = new CharClass();
  if (name == "alpha") { cls.add(65, 90); cls.add(97, 122); }
  else if (name == "digit") cls.add(48, 57);
  else if (name == "alnum") { cls.add(48, 57); cls.add(65, 90); cls.add(97, 122); }
  else if (name == "upper") cls.add(65, 90);
  else if (name == "lower") cls.add(97, 122);
  else if (name == "space") { cls.add(9, 13); cls.add(32, 32); }
  else if (name == "xdigit") { cls.add(48, 57); cls.add(65, 70); cls.add(97, 102); }
  else if (name == "word") { cls.add(48, 57); cls.add(65, 90); cls.add(97, 122); cls.add(95, 95); }
  else if (name == "punct") { cls.add(33, 47); cls.add(58, 64); cls.add(91, 96); cls.add(123, 126); }
  else if (name == "blank") { cls.add(9, 9); cls.add(32, 32); }
  else if (name == "cntrl") { cls.add(0, 31); cls.add(127, 127); }
  else if (name == "print") cls.add(32, 126);
  else if (name == "graph") cls.add(33, 126);
  else if (name == "ascii") cls.add(0, 127);
  else return null;
  return cls;
}

// ---- parsing to a syntax tree ----------------------------------------------------------------

const NODE_EMPTY: u8 = 0;
const NODE_CHAR: u8 = 1;
const NODE_CLASS: u8 = 2;
const NODE_ANY: u8 = 3;
const NODE_CONCAT: u8 = 4;
const NODE_ALT: u8 = 5;
const NODE_REPEAT: u8 = 6;
const NODE_ASSERT: u8 = 7;
const NODE_ANY_BYTE: u8 = 8;

class Node {
  kind: u8 = NODE_EMPTY;
  c: i32 = 0;
  cls: CharClass | null = null;
  children: Node[] = [];
  min: i32 = 0;
  /** -1: unbounded. */
  max: i32 = 0;
  fold: bool = false;
  dotAll: bool = false;
  assertOp: u8 = 0;
  /** \Q...\E text: its characters join the enclosing sequence one by one. */
  quoted: bool = false;
  /** The largest product of nested counted repetitions in this node (RE2's repetition size). */
  weight: i32 = 1;
}

/** RE2's limit on nesting of groups and repetitions. */
const MAX_NESTING: i32 = 1000;

class Parser {
  pos: i32 = 0;
  error: string = "";
  fold: bool = false;
  dotAll: bool = false;
  multiLine: bool = false;
  groupNames: string[] = [];

  constructor(public p: string) {}

  fail(message: string, at: i32 = -1): Node | null {
    if (this.error.length == 0) this.error = message + " at position " + (at < 0 ? this.pos : at).toString();
    return null;
  }

  more(): bool { return this.pos < this.p.length; }

  /** The code point whose first unit `c` was just consumed (a surrogate pair is one character). */
  codePointFrom(c: i32): i32 {
    if (c >= 0xd800 && c < 0xdc00 && this.more()) {
      const low = this.peek();
      if (low >= 0xdc00 && low < 0xe000) { this.pos++; return 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00); }
    }
    return c;
  }
  peek(): i32 { return this.p.charCodeAt(this.pos); }

  parseAlternation(depth: i32): Node | null {
    if (depth > MAX_NESTING) return this.fail("expression nests too deeply");
    const branches = new Array<Node>();
    const first = this.parseConcat(depth);
    if (first === null) return null;
    branches.push(first);
    while (this.more() && this.peek() == 124) {
      this.pos++;
      const next = this.parseConcat(depth);
      if (next === null) return null;
      branches.push(next);
    }
    if (branches.length == 1) return branches[0];
    const alt = new Node();
    alt.kind = NODE_ALT;
    alt.children = branches;
    for (let i = 0; i < branches.length; i++) alt.weight = max(alt.weight, branches[i].weight);
    return alt;
  }

  parseConcat(depth: i32): Node | null {
    const items = new Array<Node>();
    while (this.more()) {
      const c = this.peek();
      if (c == 124 || c == 41) break;
      const atomStart = this.pos;
      let atom = this.parseAtom(depth);
      if (atom === null) {
        if (this.error.length > 0) return null;
        continue; // a flag group such as (?i) produces nothing
      }
      if (atom.quoted) {
        // A repetition after \Q...\E applies to its last character, as in RE2 (after an empty
        // one, to what came before it).
        const chars = atom.children;
        if (chars.length == 0) {
          if (items.length == 0 || !this.more() || !isQuantifier(this.peek())) continue;
          atom = items.pop();
          const repeated = this.parseQuantifier(atom, atomStart);
          if (repeated === null) return null;
          items.push(repeated);
          continue;
        }
        for (let i = 0; i < chars.length - 1; i++) items.push(chars[i]);
        atom = chars[chars.length - 1];
      }
      atom = this.parseQuantifier(atom, atomStart);
      if (atom === null) return null;
      items.push(atom);
    }
    const concat = new Node();
    concat.kind = NODE_CONCAT;
    concat.children = items;
    for (let i = 0; i < items.length; i++) concat.weight = max(concat.weight, items[i].weight);
    return concat;
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

  parseAtom(depth: i32): Node | null {
    const c = this.peek();
    const start = this.pos;
    if (c == 40) return this.parseGroup(depth);
    if (c == 42 || c == 43 || c == 63) return this.fail("no argument for repetition operator");
    if (c == 123) {
      const bounds = this.parseBraces();
      if (bounds !== null) return this.fail("no argument for repetition operator", start);
      if (this.error.length > 0) return null;
    }
    this.pos++;
    const node = new Node();
    node.fold = this.fold;
    if (c == 46) { node.kind = NODE_ANY; node.dotAll = this.dotAll; return node; }
    if (c == 94) { node.kind = NODE_ASSERT; node.assertOp = this.multiLine ? OP_BEGIN_LINE : OP_BEGIN; return node; }
    if (c == 36) { node.kind = NODE_ASSERT; node.assertOp = this.multiLine ? OP_END_LINE : OP_END; return node; }
    if (c == 91) { this.pos = start; return this.parseClass(); }
    if (c == 92) return this.parseEscape(node, start);
    node.kind = NODE_CHAR;
    node.c = this.codePointFrom(c);
    return node;
  }

  parseGroup(depth: i32): Node | null {
    const start = this.pos;
    this.pos++;
    if (this.more() && this.peek() == 63) {
      this.pos++;
      if (!this.more()) return this.fail("missing argument after (?", start);
      const c = this.peek();
      if (c == 61 || c == 33) return this.fail("lookahead (?" + String.fromCharCode(c) + " is not supported (RE2 syntax)", start);
      if (c == 60 && this.pos + 1 < this.p.length && (this.p.charCodeAt(this.pos + 1) == 61 || this.p.charCodeAt(this.pos + 1) == 33)) {
        return this.fail("lookbehind is not supported (RE2 syntax)", start);
      }
      if (c == 80 || c == 60) {
        // (?P<name>...) or (?<name>...): a capture group; captures do not change what matches.
        if (c == 80) this.pos++;
        if (!this.more() || this.peek() != 60) return this.fail("invalid named capture group", start);
        const close = this.p.indexOf(">", this.pos);
        const name = close < 0 ? "" : this.p.substring(this.pos + 1, close);
        if (!validGroupName(name)) return this.fail("invalid named capture group", start);
        if (this.groupNames.includes(name)) return this.fail("duplicate capture group name", start);
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
            if (!on) return this.fail("invalid or missing flags", start);
            on = false;
          } else if (f == 105) fold = on;
          else if (f == 115) dotAll = on;
          else if (f == 109) multiLine = on;
          else if (f == 85) { /* ungreedy: the same strings match */ }
          else return this.fail("invalid or unsupported flag '" + String.fromCharCode(f) + "'", this.pos);
          if (f != 45 && !on) flagsAfterMinus++;
          this.pos++;
        }
        if (!this.more()) return this.fail("missing closing )", start);
        if (!on && flagsAfterMinus == 0) return this.fail("invalid or missing flags", start);
        if (this.peek() == 41) {
          // (?flags) holds until the end of the enclosing group.
          this.pos++;
          this.fold = fold;
          this.dotAll = dotAll;
          this.multiLine = multiLine;
          return null;
        }
        this.pos++; // ':'
        return this.groupBody(depth, start, fold, dotAll, multiLine);
      }
    }
    return this.groupBody(depth, start, this.fold, this.dotAll, this.multiLine);
  }

  /** A group's alternation under the given flags; flags set inside it end with it. */
  groupBody(depth: i32, start: i32, fold: bool, dotAll: bool, multiLine: bool): Node | null {
    const savedFold = this.fold;
    const savedDotAll = this.dotAll;
    const savedMultiLine = this.multiLine;
    this.fold = fold;
    this.dotAll = dotAll;
    this.multiLine = multiLine;
    const inner = this.parseAlternation(depth + 1);
    this.fold = savedFold;
    this.dotAll = savedDotAll;
    this.multiLine = savedMultiLine;
    if (inner === null) return null;
    if (!this.more() || this.peek() != 41) return this.fail("missing closing )", start);
    this.pos++;
    return inner;
  }

  parseEscape(node: Node, start: i32): Node | null {
    if (!this.more()) return this.fail("trailing backslash at end of expression", start);
    const e = this.peek();
    this.pos++;
    if (e >= 49 && e <= 57 && !(e <= 55 && this.more() && this.peek() >= 48 && this.peek() <= 55)) {
      return this.fail("backreferences are not supported (RE2 syntax)", start);
    }
    const perl = perlClass(e);
    if (perl !== null) { node.kind = NODE_CLASS; node.cls = perl; return node; }
    if (e == 98 || e == 66) { node.kind = NODE_ASSERT; node.assertOp = e == 98 ? OP_WORD_BOUNDARY : OP_NOT_WORD_BOUNDARY; return node; }
    if (e == 65) { node.kind = NODE_ASSERT; node.assertOp = OP_BEGIN; return node; }
    if (e == 122) { node.kind = NODE_ASSERT; node.assertOp = OP_END; return node; }
    if (e == 67) { node.kind = NODE_ANY_BYTE; return node; }
    if (e == 81) return this.quoted(start);
    const literal = this.escapedLiteral(e, start);
    if (literal < 0) return null;
    node.kind = NODE_CHAR;
    node.c = literal;
    return node;
  }

  /** \Q...\E: the text up to \E (or the end) taken literally. */
  quoted(start: i32): Node | null {
    const end = this.p.indexOf("\\E", this.pos);
    const stop = end < 0 ? this.p.length : end;
    const concat = new Node();
    concat.kind = NODE_CONCAT;
    while (this.pos < stop) {
      const node = new Node();
      node.kind = NODE_CHAR;
      node.fold = this.fold;
      const c = this.peek();
      this.pos++;
      node.c = this.codePointFrom(c);
      concat.children.push(node);
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
          if (h < 0 || value > 0x10ffff) { this.fail("invalid escape sequence", start); return -1; }
          value = value * 16 + h;
          digits++;
          this.pos++;
        }
        if (!this.more() || digits == 0 || value > 0x10ffff) { this.fail("invalid escape sequence", start); return -1; }
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
    return e;
  }

  parseClass(): Node | null {
    const start = this.pos;
    this.pos++;
    const cls = new CharClass();
    if (this.more() && this.peek() == 94) { cls.negated = true; this.pos++; }
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
        const posix = posixClass(name);
        if (posix === null) return this.fail("invalid character class range [:" + name + ":]", this.pos);
        posix.negated = negate;
        cls.addClass(posix);
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
        const perl = perlClass(e);
        if (perl !== null) { cls.addClass(perl); continue; }
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
      cls.add(lo, hi);
    }
    const node = new Node();
    node.kind = NODE_CLASS;
    node.cls = cls;
    node.fold = this.fold;
    return node;
  }
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

// ---- compiling the tree to a program ---------------------------------------------------------

class Compiler {
  prog: Inst[] = [];
  tooLarge: bool = false;

  emit(inst: Inst): i32 {
    this.prog.push(inst);
    if (this.prog.length > MAX_PROGRAM) this.tooLarge = true;
    return this.prog.length - 1;
  }

  compile(node: Node): void {
    if (this.tooLarge) return;
    switch (node.kind) {
      case NODE_EMPTY: break;
      case NODE_CHAR: this.emit(new Inst(OP_CHAR, node.c, 0, null, node.fold)); break;
      case NODE_CLASS: this.emit(new Inst(OP_CLASS, 0, 0, node.cls, node.fold)); break;
      case NODE_ANY: this.emit(new Inst(node.dotAll ? OP_ANY : OP_ANY_NOT_NL)); break;
      case NODE_ANY_BYTE: this.emit(new Inst(OP_ANY_BYTE)); break;
      case NODE_ASSERT: this.emit(new Inst(node.assertOp)); break;
      case NODE_CONCAT:
        for (let i = 0; i < node.children.length; i++) this.compile(node.children[i]);
        break;
      case NODE_ALT: {
        const jumps = new Array<i32>();
        for (let i = 0; i < node.children.length - 1; i++) {
          const split = this.emit(new Inst(OP_SPLIT));
          this.prog[split].x = this.prog.length;
          this.compile(node.children[i]);
          jumps.push(this.emit(new Inst(OP_JMP)));
          this.prog[split].y = this.prog.length;
        }
        this.compile(node.children[node.children.length - 1]);
        for (let i = 0; i < jumps.length; i++) this.prog[jumps[i]].x = this.prog.length;
        break;
      }
      case NODE_REPEAT: this.compileRepeat(node); break;
    }
  }

  compileRepeat(node: Node): void {
    const child = node.children[0];
    for (let i = 0; i < node.min; i++) this.compile(child);
    if (node.max < 0) {
      // x*: L: split body, out; body; jmp L
      const split = this.emit(new Inst(OP_SPLIT));
      this.prog[split].x = this.prog.length;
      this.compile(child);
      this.emit(new Inst(OP_JMP, split));
      this.prog[split].y = this.prog.length;
      return;
    }
    // Up to max - min optional copies, nested: (x(x)?)?
    const splits = new Array<i32>();
    for (let i = node.min; i < node.max; i++) {
      const split = this.emit(new Inst(OP_SPLIT));
      this.prog[split].x = this.prog.length;
      splits.push(split);
      this.compile(child);
      if (this.tooLarge) return;
    }
    for (let i = 0; i < splits.length; i++) this.prog[splits[i]].y = this.prog.length;
  }
}

// ---- matching ----------------------------------------------------------------------------------

export class RegexCompileResult {
  constructor(public regex: Regex | null, public error: string) {}
  get ok(): bool { return this.regex !== null; }
}

export class Regex {
  private readonly prog: Inst[];
  // Thread lists reused across matches: a sparse set of program counters per step.
  private current: StaticArray<i32>;
  private next: StaticArray<i32>;
  private onList: StaticArray<i32>;
  /** addThread's work stack: each instruction is pushed at most twice per closure (a split and a jump to it). */
  private stack: StaticArray<i32>;
  private generation: i32 = 0;

  private constructor(readonly pattern: string, prog: Inst[]) {
    this.prog = prog;
    this.current = new StaticArray<i32>(prog.length);
    this.next = new StaticArray<i32>(prog.length);
    this.onList = new StaticArray<i32>(prog.length);
    this.stack = new StaticArray<i32>(prog.length * 2 + 2);
  }

  /** Compiles `pattern`; the error names what is wrong and its position (0-based). */
  static compile(pattern: string): RegexCompileResult {
    const parser = new Parser(pattern);
    const tree = parser.parseAlternation(0);
    if (tree === null || parser.error.length > 0) {
      return new RegexCompileResult(null, parser.error.length > 0 ? parser.error : "invalid expression");
    }
    if (parser.more()) return new RegexCompileResult(null, "unexpected ) at position " + parser.pos.toString());
    const compiler = new Compiler();
    compiler.compile(tree);
    compiler.emit(new Inst(OP_MATCH));
    if (compiler.tooLarge) return new RegexCompileResult(null, "expression too large (over " + MAX_PROGRAM.toString() + " instructions once repetitions are expanded)");
    return new RegexCompileResult(new Regex(pattern, compiler.prog), "");
  }

  /** True when the whole of `text` matches (Envoy's safe_regex semantics). */
  fullMatch(text: string): bool { return this.run(text, true); }

  /** True when some part of `text` matches. */
  partialMatch(text: string): bool { return this.run(text, false); }

  private run(text: string, anchored: bool): bool {
    let current = this.current;
    let next = this.next;
    this.generation++;
    let count = this.addThread(current, 0, 0, text, 0);
    const length = text.length;
    let pos = 0;
    while (true) {
      let nextCount = 0;
      this.generation++;
      // One code point per step: a surrogate pair is one character, as RE2 sees UTF-8.
      let c = -1;
      let width = 1;
      if (pos < length) {
        c = <i32>text.charCodeAt(pos);
        if (c >= 0xd800 && c < 0xe000) {
          const low = c < 0xdc00 && pos + 1 < length ? <i32>text.charCodeAt(pos + 1) : 0;
          if (low >= 0xdc00 && low < 0xe000) { c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00); width = 2; }
          else c = INVALID;
        }
      }
      const after = pos + width;
      for (let i = 0; i < count; i++) {
        const pc = unchecked(current[i]);
        const inst = unchecked(this.prog[pc]);
        switch (inst.op) {
          case OP_MATCH:
            if (!anchored || pos == length) return true;
            break;
          case OP_CHAR:
            if (c >= 0 && (c == inst.x || (inst.fold && swapCase(c) == inst.x))) nextCount = this.addThread(next, nextCount, pc + 1, text, after);
            break;
          case OP_CLASS:
            if (c >= 0 && inst.cls!.matches(c, inst.fold)) nextCount = this.addThread(next, nextCount, pc + 1, text, after);
            break;
          case OP_ANY:
            if (c >= 0) nextCount = this.addThread(next, nextCount, pc + 1, text, after);
            break;
          case OP_ANY_BYTE:
            if (c != -1) nextCount = this.addThread(next, nextCount, pc + 1, text, after);
            break;
          case OP_ANY_NOT_NL:
            if (c >= 0 && c != 10) nextCount = this.addThread(next, nextCount, pc + 1, text, after);
            break;
        }
      }
      if (pos >= length) return false;
      // A search starts again at every position, even when no thread is alive (\bword\b).
      if (!anchored) nextCount = this.addThread(next, nextCount, 0, text, after);
      else if (nextCount == 0) return false;
      const swap = current;
      current = next;
      next = swap;
      count = nextCount;
      pos = after;
    }
    return false;
  }

  /**
   * Adds `start` and everything reachable from it without consuming input. Iterative, with a
   * stack bounded by the program size: no pattern can exhaust the Wasm stack.
   */
  private addThread(list: StaticArray<i32>, count: i32, start: i32, text: string, pos: i32): i32 {
    const stack = this.stack;
    let top = 0;
    unchecked(stack[top++] = start);
    while (top > 0) {
      const pc = unchecked(stack[--top]);
      if (unchecked(this.onList[pc]) == this.generation) continue;
      unchecked(this.onList[pc] = this.generation);
      const inst = unchecked(this.prog[pc]);
      switch (inst.op) {
        case OP_JMP: unchecked(stack[top++] = inst.x); break;
        case OP_SPLIT:
          // y below x: x is explored first, as the recursive form did.
          unchecked(stack[top++] = inst.y);
          unchecked(stack[top++] = inst.x);
          break;
        case OP_BEGIN: if (pos == 0) unchecked(stack[top++] = pc + 1); break;
        case OP_END: if (pos == text.length) unchecked(stack[top++] = pc + 1); break;
        case OP_BEGIN_LINE: if (pos == 0 || text.charCodeAt(pos - 1) == 10) unchecked(stack[top++] = pc + 1); break;
        case OP_END_LINE: if (pos == text.length || text.charCodeAt(pos) == 10) unchecked(stack[top++] = pc + 1); break;
        case OP_WORD_BOUNDARY:
        case OP_NOT_WORD_BOUNDARY: {
          const before = pos > 0 && isWordChar(text.charCodeAt(pos - 1));
          const after = pos < text.length && isWordChar(text.charCodeAt(pos));
          if ((before != after) == (inst.op == OP_WORD_BOUNDARY)) unchecked(stack[top++] = pc + 1);
          break;
        }
        default:
          unchecked(list[count++] = pc);
      }
    }
    return count;
  }
}
