// The tree compiled to a program over bytes, as RE2 compiles it: a class becomes the UTF-8
// byte sequences of its code points (or, for Latin-1, the bytes themselves), so matching reads
// the bytes Envoy holds and \C is simply "any byte".
import {
  ASSERT_BEGIN_LINE, ASSERT_BEGIN_TEXT, ASSERT_END_LINE, ASSERT_END_TEXT,
  NODE_ALT, NODE_ANY_BYTE, NODE_ASSERT, NODE_CHAR, NODE_CLASS, NODE_CONCAT, NODE_EMPTY, NODE_REPEAT, Node,
} from "./parser";
import { RangeSet } from "./ranges";

/** Consumes one byte: `ranges` holds lo, hi, target triples, sorted and disjoint. */
export const OP_BYTES: u8 = 0;
export const OP_SPLIT: u8 = 1;
export const OP_JMP: u8 = 2;
export const OP_MATCH: u8 = 3;
/** An assertion (x: which, see ASSERT_* in parser.ts), then pc + 1. */
export const OP_ASSERT: u8 = 4;

export class Inst {
  constructor(public op: u8, public x: i32 = 0, public y: i32 = 0, public ranges: StaticArray<i32> | null = null) {}
}

/** A target that means "after the class", patched once the class is laid out. */
const OUT: i32 = -1;

/**
 * Programs larger than this are refused: RE2 refuses what does not fit its memory budget
 * (about 87,000 instructions, each byte range one instruction), and pcs must fit 16 bits.
 */
export const MAX_PROGRAM: i32 = 65000;

/** A node of the byte trie of a class: sorted disjoint byte ranges, each with its child (null: done). */
class TrieNode {
  lo: u8[] = [];
  hi: u8[] = [];
  child: Array<TrieNode | null> = [];
  /** Memo key for sharing identical suffixes. */
  key: string = "";

  /**
   * Adds the byte-range sequence seq[at, length) (lo, hi pairs). Sequences arrive in ascending
   * order, so only the last range can be shared; ranges from disjoint code point ranges are
   * shared exactly or not at all.
   */
  insert(seq: StaticArray<i32>, at: i32, length: i32): void {
    let node: TrieNode = this;
    for (; at < length; at += 2) {
      const lo = <u8>seq[at];
      const hi = <u8>seq[at + 1];
      const last = at + 2 >= length;
      const n = node.lo.length;
      if (n > 0 && node.lo[n - 1] == lo && node.hi[n - 1] == hi && !last) { node = node.child[n - 1]!; continue; }
      if (n > 0 && node.lo[n - 1] == lo && node.hi[n - 1] == hi) return;
      const child: TrieNode | null = last ? null : new TrieNode();
      node.lo.push(lo);
      node.hi.push(hi);
      node.child.push(child);
      if (child === null) return;
      node = child;
    }
  }
}

/**
 * Adds the UTF-8 encodings of [lo, hi] to the trie, one sequence of byte ranges at a time, or
 * when `list` is given, appends copies of the sequences to it instead.
 */
function addUtf8Range(root: TrieNode, lo: i32, hi: i32, stack: i32[], seq: StaticArray<i32>, list: StaticArray<i32>[] | null = null): void {
  stack.length = 0;
  stack.push(hi);
  stack.push(lo);
  while (stack.length > 0) {
    const a = stack.pop();
    const b = stack.pop();
    // One encoded length at a time.
    const limit = a <= 0x7f ? 0x7f : a <= 0x7ff ? 0x7ff : a <= 0xffff ? 0xffff : 0x10ffff;
    if (b > limit) { stack.push(b); stack.push(limit + 1); stack.push(limit); stack.push(a); continue; }
    const n = b <= 0x7f ? 1 : b <= 0x7ff ? 2 : b <= 0xffff ? 3 : 4;
    // Split until every continuation byte below the first varying one spans its full range.
    let split = false;
    for (let i = 1; i < n && !split; i++) {
      const m = (1 << (6 * i)) - 1;
      if ((a & ~m) == (b & ~m)) continue;
      if ((a & m) != 0) { stack.push(b); stack.push((a | m) + 1); stack.push(a | m); stack.push(a); split = true; }
      else if ((b & m) != m) { stack.push(b); stack.push(b & ~m); stack.push((b & ~m) - 1); stack.push(a); split = true; }
    }
    if (split) continue;
    utf8Into(seq, 0, a, n);
    utf8Into(seq, 1, b, n);
    if (list !== null) list.push(StaticArray.slice<i32>(seq, 0, n * 2));
    else root.insert(seq, 0, n * 2);
  }
}

/** How many bytes `c` takes in the text: one in Latin-1, its UTF-8 length otherwise. */
export function encodedLength(c: i32, latin1: bool): i32 {
  return latin1 || c < 0x80 ? 1 : c <= 0x7ff ? 2 : c <= 0xffff ? 3 : 4;
}

/** Writes the n-byte UTF-8 encoding of c into every other slot of seq, from `at`. */
export function utf8Into(seq: StaticArray<i32>, at: i32, c: i32, n: i32): void {
  if (n == 1) { seq[at] = c; return; }
  for (let i = n - 1; i > 0; i--) { seq[at + i * 2] = 0x80 | (c & 0x3f); c >>= 6; }
  seq[at] = (n == 2 ? 0xc0 : n == 3 ? 0xe0 : 0xf0) | c;
}

function classTrie(set: RangeSet, latin1: bool): TrieNode {
  const root = new TrieNode();
  const seq = new StaticArray<i32>(8);
  const stack = new Array<i32>();
  for (let i = 0; i < set.count; i++) {
    if (!latin1) { addUtf8Range(root, set.lo(i), set.hi(i), stack, seq); continue; }
    if (set.lo(i) > 0xff) break;
    seq[0] = set.lo(i);
    seq[1] = min(set.hi(i), 0xff);
    root.insert(seq, 0, 2);
  }
  return root;
}

/**
 * A class as byte instructions, relative: node 0 is where threads enter, each range's target
 * is a node index or OUT. Identical suffixes (most continuation bytes) are laid out once.
 */
class ClassCode {
  nodes: StaticArray<i32>[] = [];
}

function layout(node: TrieNode, code: ClassCode, memo: Map<string, i32>, at: i32): void {
  const ranges = new StaticArray<i32>(node.lo.length * 3);
  const key = new Array<i32>(node.lo.length * 3);
  for (let i = 0; i < node.lo.length; i++) {
    const child = node.child[i];
    let target = OUT;
    if (child !== null) {
      // Children first, so a node's key names its children by index.
      const index = code.nodes.length;
      code.nodes.push(new StaticArray<i32>(0));
      layout(child, code, memo, index);
      if (memo.has(child.key)) {
        target = memo.get(child.key);
        code.nodes.length = index; // a copy of a node laid out before: drop it and what it added
      } else {
        target = index;
        memo.set(child.key, index);
      }
    }
    ranges[i * 3] = key[i * 3] = node.lo[i];
    ranges[i * 3 + 1] = key[i * 3 + 1] = node.hi[i];
    ranges[i * 3 + 2] = key[i * 3 + 2] = target;
  }
  node.key = String.fromCharCodes(key);
  code.nodes[at] = ranges;
}

/** Laid-out classes by content (created on first use): patterns tend to repeat the same classes. */
let classCodes: Map<string, ClassCode> | null = null;
const MAX_CLASS_CODES = 256;

function classCode(set: RangeSet, latin1: bool): ClassCode {
  const signature = (latin1 ? "1" : "8") + String.fromCharCodes(set.r.map<i32>((x: i32): i32 => x & 0xffff)) + String.fromCharCodes(set.r.map<i32>((x: i32): i32 => x >> 16));
  if (classCodes === null) classCodes = new Map<string, ClassCode>();
  const known = classCodes!;
  if (known.has(signature)) return known.get(signature);
  const code = new ClassCode();
  code.nodes.push(new StaticArray<i32>(0));
  layout(classTrie(set, latin1), code, new Map<string, i32>(), 0);
  if (known.size >= MAX_CLASS_CODES) known.clear();
  known.set(signature, code);
  return code;
}

export class Compiler {
  prog: Inst[] = [];
  /** RE2-like size: one per instruction, one per byte range. */
  size: i32 = 0;

  /** `reversed`: the program of the pattern read backwards, run over the text from its end. */
  constructor(private latin1: bool, private reversed: bool = false) {}

  get tooLarge(): bool { return this.size > MAX_PROGRAM; }

  emit(inst: Inst): i32 {
    this.prog.push(inst);
    this.size += inst.ranges === null ? 1 : max(1, inst.ranges!.length / 3);
    return this.prog.length - 1;
  }

  /**
   * Appends the program for `node`. Iterative: pending work is a heap-allocated stack, so no
   * nesting depth can exhaust the Wasm stack.
   */
  compile(root: Node): void {
    const tasks = new Array<Task>();
    tasks.push(new Task(TASK_NODE, root));
    while (tasks.length > 0 && !this.tooLarge) {
      const task = tasks.pop();
      const node = task.node;
      switch (task.kind) {
        case TASK_NODE: this.compileNode(node, tasks); break;
        case TASK_ALT_BRANCH: {
          // Between branches: jump over the rest, and the split's second way starts here.
          task.pcs.push(this.emit(new Inst(OP_JMP)));
          this.prog[task.split].y = this.prog.length;
          task.count++;
          this.nextBranch(task, tasks);
          break;
        }
        case TASK_ALT_END:
          for (let i = 0; i < task.pcs.length; i++) this.prog[task.pcs[i]].x = this.prog.length;
          break;
        case TASK_REPEAT: this.nextCopy(task, tasks); break;
        case TASK_STAR_END:
          this.emit(new Inst(OP_JMP, task.split));
          this.prog[task.split].y = this.prog.length;
          break;
      }
    }
  }

  private compileNode(node: Node, tasks: Task[]): void {
    switch (node.kind) {
      case NODE_EMPTY: break;
      case NODE_CHAR: this.compileChar(node.c); break;
      case NODE_CLASS: this.compileClass(node); break;
      case NODE_ANY_BYTE: this.emit(new Inst(OP_BYTES, 0, 0, bytes3(0, 255, this.prog.length + 1))); break;
      case NODE_ASSERT: this.emit(new Inst(OP_ASSERT, this.reversed ? mirrored(<u8>node.c) : node.c)); break;
      case NODE_CONCAT: {
        // Pushed last first, so they are compiled in order (reversed: from the last).
        const n = node.children.length;
        for (let i = 0; i < n; i++) tasks.push(new Task(TASK_NODE, node.children[this.reversed ? i : n - 1 - i]));
        break;
      }
      case NODE_ALT: this.nextBranch(new Task(TASK_ALT_BRANCH, node), tasks); break;
      case NODE_REPEAT: this.nextCopy(new Task(TASK_REPEAT, node), tasks); break;
    }
  }

  /** x|y|z: split to each branch but the last, each followed by a jump to the end. */
  private nextBranch(task: Task, tasks: Task[]): void {
    const branches = task.node.children;
    if (task.count < branches.length - 1) {
      task.split = this.emit(new Inst(OP_SPLIT));
      this.prog[task.split].x = this.prog.length;
      tasks.push(task);
      tasks.push(new Task(TASK_NODE, branches[task.count]));
      return;
    }
    task.kind = TASK_ALT_END;
    tasks.push(task);
    tasks.push(new Task(TASK_NODE, branches[branches.length - 1]));
  }

  /** x{min,max}: min copies, then x* (split, body, jump back) or max - min nested optional copies. */
  private nextCopy(task: Task, tasks: Task[]): void {
    const node = task.node;
    const child = node.children[0];
    if (task.count < node.min) {
      task.count++;
      tasks.push(task);
      tasks.push(new Task(TASK_NODE, child));
      return;
    }
    if (node.max < 0) {
      task.split = this.emit(new Inst(OP_SPLIT));
      this.prog[task.split].x = this.prog.length;
      task.kind = TASK_STAR_END;
      tasks.push(task);
      tasks.push(new Task(TASK_NODE, child));
      return;
    }
    if (task.count < node.max) {
      const split = this.emit(new Inst(OP_SPLIT));
      this.prog[split].x = this.prog.length;
      task.pcs.push(split);
      task.count++;
      tasks.push(task);
      tasks.push(new Task(TASK_NODE, child));
      return;
    }
    for (let i = 0; i < task.pcs.length; i++) this.prog[task.pcs[i]].y = this.prog.length;
  }

  compileChar(c: i32): void {
    const n = encodedLength(c, this.latin1);
    const enc = new StaticArray<i32>(8);
    utf8Into(enc, 0, c, n);
    for (let i = 0; i < n; i++) {
      const b = enc[(this.reversed ? n - 1 - i : i) * 2];
      this.emit(new Inst(OP_BYTES, 0, 0, bytes3(b, b, this.prog.length + 1)));
    }
  }

  /** Emits a class's byte instructions, entered at the first. */
  compileClass(node: Node): void {
    if (this.reversed && !this.latin1) { this.compileReversedClass(node.set!); return; }
    const code = classCode(node.set!, this.latin1);
    const base = this.prog.length;
    const out = base + code.nodes.length;
    for (let i = 0; i < code.nodes.length; i++) {
      const relative = code.nodes[i];
      const ranges = new StaticArray<i32>(relative.length);
      for (let k = 0; k < relative.length; k += 3) {
        ranges[k] = relative[k];
        ranges[k + 1] = relative[k + 1];
        ranges[k + 2] = relative[k + 2] == OUT ? out : base + relative[k + 2];
      }
      this.emit(new Inst(OP_BYTES, 0, 0, ranges));
    }
  }

  /** A class read backwards: each UTF-8 sequence, last byte first, as one alternative. */
  compileReversedClass(set: RangeSet): void {
    const list = new Array<StaticArray<i32>>();
    const seq = new StaticArray<i32>(8);
    const stack = new Array<i32>();
    for (let i = 0; i < set.count; i++) addUtf8Range(new TrieNode(), set.lo(i), set.hi(i), stack, seq, list);
    if (list.length == 0) { this.emit(new Inst(OP_BYTES, 0, 0, new StaticArray<i32>(0))); return; }
    const jumps = new Array<i32>();
    for (let k = 0; k < list.length && !this.tooLarge; k++) {
      const split = k < list.length - 1 ? this.emit(new Inst(OP_SPLIT)) : -1;
      if (split >= 0) this.prog[split].x = this.prog.length;
      const s = list[k];
      for (let i = s.length - 2; i >= 0; i -= 2) this.emit(new Inst(OP_BYTES, 0, 0, bytes3(s[i], s[i + 1], this.prog.length + 1)));
      if (split >= 0) { jumps.push(this.emit(new Inst(OP_JMP))); this.prog[split].y = this.prog.length; }
    }
    for (let i = 0; i < jumps.length; i++) this.prog[jumps[i]].x = this.prog.length;
  }
}

const TASK_NODE: u8 = 0;
const TASK_ALT_BRANCH: u8 = 1;
const TASK_ALT_END: u8 = 2;
const TASK_REPEAT: u8 = 3;
const TASK_STAR_END: u8 = 4;

/** Pending compile work: a node to compile, or the rest of an alternation or repetition. */
class Task {
  /** Branches or copies done. */
  count: i32 = 0;
  split: i32 = 0;
  /** Jumps (alternation) or splits (bounded repetition) to patch at the end. */
  pcs: i32[] = [];
  constructor(public kind: u8, public node: Node) {}
}

/** An assertion as seen reading the text backwards. */
function mirrored(which: u8): u8 {
  if (which == ASSERT_BEGIN_TEXT) return ASSERT_END_TEXT;
  if (which == ASSERT_END_TEXT) return ASSERT_BEGIN_TEXT;
  if (which == ASSERT_BEGIN_LINE) return ASSERT_END_LINE;
  if (which == ASSERT_END_LINE) return ASSERT_BEGIN_LINE;
  return which; // word boundaries look both ways
}

function bytes3(lo: i32, hi: i32, target: i32): StaticArray<i32> {
  const r = new StaticArray<i32>(3);
  r[0] = lo;
  r[1] = hi;
  r[2] = target;
  return r;
}
