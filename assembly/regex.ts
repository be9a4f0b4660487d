// Regular expressions with RE2's syntax and guarantees, the dialect Envoy's safe_regex uses:
// matching takes time linear in the input (a Pike VM over a compiled NFA, no backtracking),
// and constructs RE2 rejects (backreferences, lookaround) are compile errors.
//
// Supported: literals and escapes (\n \t \r \f \v \xHH \uHHHH, escaped punctuation), `.`,
// classes [a-z] [^...] with \d \w \s and [:alpha:]-style POSIX names, \d \D \w \W \s \S,
// anchors ^ $ \A \z \b \B, groups ( ) (?: ) (?P<name> ), alternation, * + ? {n} {n,} {n,m}
// (lazy forms accepted; they match the same strings), and the flags (?i) and (?s).
// Text is matched as UTF-16 code units (an astral character counts as two for `.`).

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

/** RE2's limit on a counted repetition. */
const MAX_REPEAT: i32 = 1000;
/** Compiled programs larger than this are refused (RE2 refuses overly large programs too). */
const MAX_PROGRAM: i32 = 20000;

class Inst {
  constructor(public op: u8, public x: i32 = 0, public y: i32 = 0, public cls: CharClass | null = null, public fold: bool = false) {}
}

/** A set of UTF-16 code unit ranges, possibly negated. */
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
    if (next <= 0xffff) this.add(next, 0xffff);
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
}

class Parser {
  pos: i32 = 0;
  error: string = "";
  fold: bool = false;
  dotAll: bool = false;

  constructor(public p: string) {}

  fail(message: string, at: i32 = -1): Node | null {
    if (this.error.length == 0) this.error = message + " at position " + (at < 0 ? this.pos : at).toString();
    return null;
  }

  more(): bool { return this.pos < this.p.length; }
  peek(): i32 { return this.p.charCodeAt(this.pos); }

  parseAlternation(depth: i32): Node | null {
    if (depth > 100) return this.fail("nesting too deep");
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
      atom = this.parseQuantifier(atom, atomStart);
      if (atom === null) return null;
      items.push(atom);
    }
    const concat = new Node();
    concat.kind = NODE_CONCAT;
    concat.children = items;
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
      if (atom.kind == NODE_ASSERT || (atom.kind == NODE_CONCAT && atom.children.length == 0)) {
        return this.fail("missing argument to repetition operator", at);
      }
      if (atom.kind == NODE_REPEAT) return this.fail("bad repetition operator", at);
      if (this.more() && this.peek() == 63) this.pos++; // lazy: same language
      if (this.more() && this.peek() == 43) return this.fail("possessive repetition is not supported (RE2 syntax)");
      const rep = new Node();
      rep.kind = NODE_REPEAT;
      rep.children = [atom];
      rep.min = min;
      rep.max = max;
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
    if (min > MAX_REPEAT || max > MAX_REPEAT) { this.fail("bad repetition operator: count above " + MAX_REPEAT.toString(), start); return null; }
    if (max >= 0 && max < min) { this.fail("bad repetition operator: {" + min.toString() + "," + max.toString() + "}", start); return null; }
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
    if (c == 42 || c == 43 || c == 63) return this.fail("missing argument to repetition operator");
    this.pos++;
    const node = new Node();
    node.fold = this.fold;
    if (c == 46) { node.kind = NODE_ANY; node.dotAll = this.dotAll; return node; }
    if (c == 94) { node.kind = NODE_ASSERT; node.assertOp = OP_BEGIN; return node; }
    if (c == 36) { node.kind = NODE_ASSERT; node.assertOp = OP_END; return node; }
    if (c == 91) { this.pos = start; return this.parseClass(); }
    if (c == 92) return this.parseEscape(node, start);
    node.kind = NODE_CHAR;
    node.c = c;
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
        if (close < 0) return this.fail("invalid named capture group", start);
        this.pos = close + 1;
      } else {
        // Flags: (?i) (?s) (?is) (?-i) or (?i:...)
        let on = true;
        let fold = this.fold;
        let dotAll = this.dotAll;
        while (this.more() && this.peek() != 41 && this.peek() != 58) {
          const f = this.peek();
          if (f == 45) on = false;
          else if (f == 105) fold = on;
          else if (f == 115) dotAll = on;
          else if (f == 109 || f == 85) { /* multi-line and ungreedy: accepted, no effect on full matches */ }
          else return this.fail("invalid or unsupported flag '" + String.fromCharCode(f) + "'", this.pos);
          this.pos++;
        }
        if (!this.more()) return this.fail("missing closing )", start);
        if (this.peek() == 41) {
          this.pos++;
          this.fold = fold;
          this.dotAll = dotAll;
          return null;
        }
        this.pos++; // ':'
        const savedFold = this.fold;
        const savedDotAll = this.dotAll;
        this.fold = fold;
        this.dotAll = dotAll;
        const inner = this.parseAlternation(depth + 1);
        this.fold = savedFold;
        this.dotAll = savedDotAll;
        if (inner === null) return null;
        if (!this.more() || this.peek() != 41) return this.fail("missing closing )", start);
        this.pos++;
        return inner;
      }
    }
    const inner = this.parseAlternation(depth + 1);
    if (inner === null) return null;
    if (!this.more() || this.peek() != 41) return this.fail("missing closing )", start);
    this.pos++;
    return inner;
  }

  parseEscape(node: Node, start: i32): Node | null {
    if (!this.more()) return this.fail("trailing backslash at end of expression", start);
    const e = this.peek();
    this.pos++;
    if (e >= 49 && e <= 57) return this.fail("backreferences are not supported (RE2 syntax)", start);
    const perl = perlClass(e);
    if (perl !== null) { node.kind = NODE_CLASS; node.cls = perl; return node; }
    if (e == 98 || e == 66) { node.kind = NODE_ASSERT; node.assertOp = e == 98 ? OP_WORD_BOUNDARY : OP_NOT_WORD_BOUNDARY; return node; }
    if (e == 65) { node.kind = NODE_ASSERT; node.assertOp = OP_BEGIN; return node; }
    if (e == 122) { node.kind = NODE_ASSERT; node.assertOp = OP_END; return node; }
    const literal = this.escapedLiteral(e, start);
    if (literal < 0) return null;
    node.kind = NODE_CHAR;
    node.c = literal;
    return node;
  }

  /** The code unit an escape stands for (the escape letter already consumed), or -1 on error. */
  escapedLiteral(e: i32, start: i32): i32 {
    if (e == 110) return 10;
    if (e == 116) return 9;
    if (e == 114) return 13;
    if (e == 102) return 12;
    if (e == 118) return 11;
    if (e == 48) return 0;
    if (e == 120 || e == 117) {
      const digits = e == 120 ? 2 : 4;
      let value = 0;
      for (let i = 0; i < digits; i++) {
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
        lo = c;
        this.pos++;
      }
      let hi = lo;
      if (this.pos + 1 < this.p.length && this.peek() == 45 && this.p.charCodeAt(this.pos + 1) != 93) {
        this.pos++;
        c = this.peek();
        if (c == 92) {
          this.pos++;
          if (!this.more()) return this.fail("trailing backslash at end of expression", itemStart);
          hi = this.escapedLiteral(this.peek(), itemStart);
          this.pos++;
          if (hi < 0) return null;
        } else {
          hi = c;
          this.pos++;
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
  private generation: i32 = 0;

  private constructor(readonly pattern: string, prog: Inst[]) {
    this.prog = prog;
    this.current = new StaticArray<i32>(prog.length);
    this.next = new StaticArray<i32>(prog.length);
    this.onList = new StaticArray<i32>(prog.length);
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
    let count = 0;
    this.generation++;
    count = this.addThread(current, count, 0, text, 0);
    const length = text.length;
    for (let pos = 0; ; pos++) {
      let nextCount = 0;
      this.generation++;
      const c = pos < length ? <i32>text.charCodeAt(pos) : -1;
      for (let i = 0; i < count; i++) {
        const pc = unchecked(current[i]);
        const inst = unchecked(this.prog[pc]);
        switch (inst.op) {
          case OP_MATCH:
            if (!anchored || pos == length) return true;
            break;
          case OP_CHAR:
            if (c >= 0 && (c == inst.x || (inst.fold && swapCase(c) == inst.x))) nextCount = this.addThread(next, nextCount, pc + 1, text, pos + 1);
            break;
          case OP_CLASS:
            if (c >= 0 && inst.cls!.matches(c, inst.fold)) nextCount = this.addThread(next, nextCount, pc + 1, text, pos + 1);
            break;
          case OP_ANY:
            if (c >= 0) nextCount = this.addThread(next, nextCount, pc + 1, text, pos + 1);
            break;
          case OP_ANY_NOT_NL:
            if (c >= 0 && c != 10) nextCount = this.addThread(next, nextCount, pc + 1, text, pos + 1);
            break;
        }
      }
      if (pos >= length) return false;
      if (!anchored) nextCount = this.addThread(next, nextCount, 0, text, pos + 1);
      const swap = current;
      current = next;
      next = swap;
      count = nextCount;
      if (count == 0) return false;
    }
    return false;
  }

  /** Adds `pc` and everything reachable from it without consuming input. */
  private addThread(list: StaticArray<i32>, count: i32, pc: i32, text: string, pos: i32): i32 {
    if (unchecked(this.onList[pc]) == this.generation) return count;
    unchecked(this.onList[pc] = this.generation);
    const inst = unchecked(this.prog[pc]);
    switch (inst.op) {
      case OP_JMP: return this.addThread(list, count, inst.x, text, pos);
      case OP_SPLIT:
        count = this.addThread(list, count, inst.x, text, pos);
        return this.addThread(list, count, inst.y, text, pos);
      case OP_BEGIN: return pos == 0 ? this.addThread(list, count, pc + 1, text, pos) : count;
      case OP_END: return pos == text.length ? this.addThread(list, count, pc + 1, text, pos) : count;
      case OP_WORD_BOUNDARY:
      case OP_NOT_WORD_BOUNDARY: {
        const before = pos > 0 && isWordChar(text.charCodeAt(pos - 1));
        const after = pos < text.length && isWordChar(text.charCodeAt(pos));
        const boundary = before != after;
        return boundary == (inst.op == OP_WORD_BOUNDARY) ? this.addThread(list, count, pc + 1, text, pos) : count;
      }
      default:
        unchecked(list[count] = pc);
        return count + 1;
    }
  }
}
