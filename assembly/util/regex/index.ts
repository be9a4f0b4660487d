// Regular expressions with RE2's syntax, semantics and guarantees, the engine behind Envoy's
// regexes. Matching takes time linear in the input (a lazily built DFA over bytes, see dfa.ts)
// and constructs RE2 rejects (backreferences, lookaround) are compile errors.
//
// Envoy reads a regex in one of two encodings, and so does this engine:
// - Latin-1 for safe_regex (route and header matchers, string matchers): every byte is one
//   character, `.` matches one byte, \x{100} and above are errors (measured on Envoy 1.40:
//   test/envoy/regex.test.ts);
// - UTF-8 for CEL's matches(): `.` matches one code point, \p{Greek} and (?i) folding cover
//   all of Unicode, a byte that is not UTF-8 is a character only \C matches.
//
// Supported, as RE2: literals and escapes (\n \t \r \f \v \a \xHH \x{H..} octal, \Q..\E, \C,
// escaped punctuation), `.`, classes [a-z] [^...] with \d \w \s, [:alpha:]-style POSIX names and
// \pL \p{Greek} \PL \p{^L} (Unicode 15.1, generated tables), anchors ^ $ \A \z \b \B, groups
// ( ) (?: ) (?P<name> ) (?<name> ), alternation, * + ? {n} {n,} {n,m} (lazy forms match the same
// strings), flags i s m U scoped to their group. Text is the bytes a string stands for (see
// rawBytes): a header read with decodeUtf8Lossy reaches the matcher byte for byte.
import { rawBytes, rawLength } from "../../internal/utf8";
import { Dfa, FED_DEAD, FED_MATCH, MODE_PREFIX, MODE_SEARCH, MODE_WHOLE } from "./dfa";
import { Node, Parser } from "./parser";
import { anchoredAt, literalPrefix } from "./shape";
import { Compiler, Inst, MAX_PROGRAM, OP_MATCH } from "./program";
import { MAX_RUNE } from "./ranges";

export enum RegexEncoding {
  /** CEL's matches(), RE2's default. */
  Utf8 = 0,
  /** Envoy's safe_regex. */
  Latin1 = 1,
}

export class RegexCompileResult {
  constructor(public regex: Regex | null, public error: string) {}
  get ok(): bool { return this.regex !== null; }
}

export class Regex {
  private whole: Dfa | null = null;
  private anywhere: Dfa | null = null;
  private backwards: Dfa | null = null;
  private readonly startAnchored: bool;
  private readonly endAnchored: bool;
  private readonly prefix: StaticArray<u8>;
  /** Kept only for a pattern searched backwards, whose reversed program is built on first use. */
  private readonly tree: Node | null;

  private constructor(readonly pattern: string, private readonly prog: Inst[], tree: Node, private readonly latin1: bool,
    /** The compiled program's size, counted as RE2 counts (one per instruction and byte range). */
    readonly programSize: i32) {
    this.startAnchored = anchoredAt(tree, true);
    this.endAnchored = anchoredAt(tree, false);
    this.prefix = StaticArray.fromArray<u8>(literalPrefix(tree, latin1));
    this.tree = this.endAnchored && !this.startAnchored ? tree : null;
  }

  /** Compiles `pattern`; the error names what is wrong and its position (0-based). */
  static compile(pattern: string, encoding: RegexEncoding = RegexEncoding.Utf8): RegexCompileResult {
    const latin1 = encoding == RegexEncoding.Latin1;
    // Latin-1 reads the pattern's own bytes as characters too, as RE2 does.
    const parser = new Parser(latin1 ? bytesAsChars(pattern) : pattern, latin1 ? 0xff : MAX_RUNE);
    const tree = parser.parse();
    if (tree === null || parser.error.length > 0) {
      return new RegexCompileResult(null, parser.error.length > 0 ? parser.error : "invalid expression");
    }
    if (parser.more()) return new RegexCompileResult(null, "unexpected ) at position " + parser.pos.toString());
    const compiler = new Compiler(latin1);
    compiler.compile(tree);
    compiler.emit(new Inst(OP_MATCH));
    if (compiler.tooLarge) return new RegexCompileResult(null, "expression too large (over " + MAX_PROGRAM.toString() + " instructions once repetitions are expanded)");
    return new RegexCompileResult(new Regex(pattern, compiler.prog, tree, latin1, compiler.size), "");
  }

  /** True when the whole of `text` matches (Envoy's safe_regex semantics). */
  fullMatch(text: string): bool {
    if (this.whole === null) this.whole = new Dfa(this.prog, MODE_WHOLE);
    const at = rawBytes(text);
    return this.whole!.run(at, at + <usize>rawLength);
  }

  /** True when some part of `text` matches (CEL's matches()). */
  partialMatch(text: string): bool {
    if (this.endAnchored && !this.startAnchored) return this.fromTheEnd(text);
    const at = rawBytes(text);
    const end = at + <usize>rawLength;
    if (this.startAnchored) {
      if (this.anywhere === null) this.anywhere = new Dfa(this.prog, MODE_PREFIX);
      return this.anywhere!.run(at, end);
    }
    if (this.anywhere === null) this.anywhere = new Dfa(this.prog, MODE_SEARCH);
    if (this.prefix.length == 0) return this.anywhere!.run(at, end);
    // No match can start before the first occurrence of the literal prefix.
    const from = find(at, end, this.prefix);
    if (from == 0) return false;
    return this.anywhere!.run(from, end, from > at ? <i32>load<u8>(from - 1) : -1);
  }

  /**
   * A search for a pattern that ends at the end of the text: the reversed program reads the
   * text backwards, a piece at a time, and usually stops within a few bytes of the end.
   */
  private fromTheEnd(text: string): bool {
    const dfa = this.reversed();
    let s = dfa.begin();
    let to = text.length;
    while (to > 0) {
      let from = max(0, to - 256);
      // A piece never splits a surrogate pair.
      const c = text.charCodeAt(from);
      if (from > 0 && c >= 0xdc00 && c < 0xe000) {
        const high = text.charCodeAt(from - 1);
        if (high >= 0xd800 && high < 0xdc00) from--;
      }
      const at = rawBytes(text, from, to);
      s = dfa.feed(s, at + <usize>rawLength - 1, at - 1);
      if (s == FED_MATCH) return true;
      if (s == FED_DEAD) return false;
      to = from;
    }
    return dfa.finish(s);
  }

  /** The pattern compiled backwards, run from the end of the text (patterns ending in $). */
  private reversed(): Dfa {
    if (this.backwards === null) {
      const compiler = new Compiler(this.latin1, true);
      compiler.compile(this.tree!);
      compiler.emit(new Inst(OP_MATCH));
      this.backwards = new Dfa(compiler.prog, MODE_PREFIX);
    }
    return this.backwards!;
  }
}

/** Where `needle` first occurs in [at, end), or 0. */
function find(at: usize, end: usize, needle: StaticArray<u8>): usize {
  const n = <usize>needle.length;
  if (end - at < n) return 0;
  const first = unchecked(needle[0]);
  const last = end - n;
  for (let p = at; p <= last; p++) {
    if (load<u8>(p) != first) continue;
    let k: usize = 1;
    while (k < n && load<u8>(p + k) == unchecked(needle[<i32>k])) k++;
    if (k == n) return p;
  }
  return 0;
}

function bytesAsChars(text: string): string {
  const at = rawBytes(text);
  const units = new Array<i32>(rawLength);
  for (let i = 0; i < rawLength; i++) units[i] = load<u8>(at + <usize>i);
  return String.fromCharCodes(units);
}
