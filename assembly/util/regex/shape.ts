// What a pattern's shape lets a search skip, as RE2 does: a pattern anchored at the start only
// needs to be tried there, one anchored at the end is searched backwards from the end, and a
// pattern that starts with literal text cannot match before that text occurs.
import { ASSERT_BEGIN_TEXT, ASSERT_END_TEXT, NODE_ALT, NODE_ASSERT, NODE_CHAR, NODE_CONCAT, NODE_REPEAT, Node } from "./parser";
import { encodedLength, utf8Into } from "./program";

/** Whether every match must start (first) or end (!first) at an edge of the text. */
export function anchoredAt(root: Node, first: bool): bool {
  // Every node on the work list must be anchored: all branches of an alternation, the first
  // (last) item of a sequence, the body of a repetition that runs at least once.
  const work: Node[] = [root];
  while (work.length > 0) {
    const node = work.pop();
    switch (node.kind) {
      case NODE_ASSERT:
        if (node.c != (first ? ASSERT_BEGIN_TEXT : ASSERT_END_TEXT)) return false;
        break;
      case NODE_ALT:
        for (let i = 0; i < node.children.length; i++) work.push(node.children[i]);
        break;
      case NODE_CONCAT: {
        const n = node.children.length;
        if (n == 0) return false;
        work.push(node.children[first ? 0 : n - 1]);
        break;
      }
      case NODE_REPEAT:
        if (node.min < 1) return false;
        work.push(node.children[0]);
        break;
      default: return false;
    }
  }
  return true;
}

/** The bytes every match starts with (literal characters at the front), possibly none. */
export function literalPrefix(node: Node, latin1: bool): u8[] {
  const out = new Array<u8>();
  const items = node.kind == NODE_CONCAT ? node.children : [node];
  const enc = new StaticArray<i32>(8);
  for (let i = 0; i < items.length && items[i].kind == NODE_CHAR; i++) {
    const c = items[i].c;
    const n = encodedLength(c, latin1);
    utf8Into(enc, 0, c, n);
    for (let k = 0; k < n; k++) out.push(<u8>enc[k * 2]);
  }
  return out;
}
