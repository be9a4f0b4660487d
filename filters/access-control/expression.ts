// The `when` language: comparisons over request attributes, parsed and checked once at
// configure (errors give the position), evaluated per request.
//
//   expr       := or
//   or         := and ("||" and)*
//   and        := unary ("&&" unary)*
//   unary      := "!" unary | "(" expr ")" | comparison
//   comparison := operand ("==" operand | "!=" operand | "in" "[" string ("," string)* "]"
//                          | "." ("startsWith" | "endsWith" | "matches") "(" string ")")
//   operand    := string | attribute
//   attribute  := request.path | request.url_path | request.method | request.host | request.scheme
//               | request.headers["name"] | request.query_params["name"]
//               | request.auth.principal | request.auth.claims["name"] | request.auth.audiences | request.auth.presenter
//               | source.address | source.port | source.principal | source.namespace | source.labels["name"]
//               | destination.address | destination.port | destination.namespace | destination.labels["name"]
//               | node.metadata["KEY"] | consumer | property("segment", ...)
//
// An attribute has zero, one or several values (a list claim has several); a comparison holds
// when any value satisfies it, and an absent attribute satisfies nothing (so != holds).
import { Regex, asciiLowerCase } from "../../assembly";
import { RequestView } from "./request";

const OP_OR: u8 = 1;
const OP_AND: u8 = 2;
const OP_NOT: u8 = 3;
const OP_EQ: u8 = 4;
const OP_NE: u8 = 5;
const OP_IN: u8 = 6;
const OP_STARTS: u8 = 7;
const OP_ENDS: u8 = 8;
const OP_MATCHES: u8 = 9;

/** An attribute or a literal. */
export class Operand {
  /** "" for a literal; else the attribute's name such as "request.headers". */
  attribute: string = "";
  /** The literal, or the attribute's key (header name, label, claim). */
  text: string = "";
  segments: string[] = [];
}

export class Expr {
  op: u8 = 0;
  left: Expr | null = null;
  right: Expr | null = null;
  a: Operand | null = null;
  b: Operand | null = null;
  list: string[] = [];
  regex: Regex | null = null;
}

export class ExprResult {
  constructor(public expr: Expr | null, public error: string) {}
}

const KEYED = ["request.headers", "request.query_params", "request.auth.claims", "source.labels", "destination.labels", "node.metadata"];
const PLAIN = [
  "request.path", "request.url_path", "request.method", "request.host", "request.scheme",
  "request.auth.principal", "request.auth.audiences", "request.auth.presenter",
  "source.address", "source.port", "source.principal", "source.namespace",
  "destination.address", "destination.port", "destination.namespace", "consumer",
];

/** Bounds that keep evaluation's recursion far inside the Wasm stack, whatever the configuration. */
const MAX_NESTING: i32 = 32;
const MAX_COMPARISONS: i32 = 256;

class Parser {
  pos: i32 = 0;
  error: string = "";
  private nesting: i32 = 0;
  private comparisons: i32 = 0;
  constructor(public text: string) {}

  fail(message: string, at: i32 = -1): Expr | null {
    if (this.error.length == 0) this.error = message + " at position " + (at < 0 ? this.pos : at).toString();
    return null;
  }

  space(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c != 32 && c != 9 && c != 10 && c != 13) break;
      this.pos++;
    }
  }

  eat(token: string): bool {
    this.space();
    if (this.text.startsWith(token, this.pos)) { this.pos += token.length; return true; }
    return false;
  }

  or(): Expr | null {
    let left = this.and();
    while (left !== null && this.eat("||")) {
      const right = this.and();
      if (right === null) return null;
      left = binary(OP_OR, left, right);
    }
    return left;
  }

  and(): Expr | null {
    let left = this.unary();
    while (left !== null && this.eat("&&")) {
      const right = this.unary();
      if (right === null) return null;
      left = binary(OP_AND, left, right);
    }
    return left;
  }

  unary(): Expr | null {
    this.space();
    if (this.text.startsWith("!=", this.pos)) return this.fail("expected an expression, found '!='");
    if (this.eat("!")) {
      if (!this.enter()) return null;
      const inner = this.unary();
      this.nesting--;
      if (inner === null) return null;
      const e = new Expr();
      e.op = OP_NOT;
      e.left = inner;
      return e;
    }
    if (this.eat("(")) {
      const start = this.pos - 1;
      if (!this.enter()) return null;
      const inner = this.or();
      this.nesting--;
      if (inner === null) return null;
      if (!this.eat(")")) return this.fail("missing ')' for the '(' at position " + start.toString());
      return inner;
    }
    return this.comparison();
  }

  /** One level deeper ('!' or '('), refused past MAX_NESTING. */
  enter(): bool {
    if (++this.nesting > MAX_NESTING) { this.fail("nested deeper than " + MAX_NESTING.toString() + " levels (of '!' and parentheses)", this.pos - 1); return false; }
    return true;
  }

  comparison(): Expr | null {
    this.space();
    const start = this.pos;
    if (++this.comparisons > MAX_COMPARISONS) return this.fail("more than " + MAX_COMPARISONS.toString() + " comparisons in one expression", start);
    const a = this.operand();
    if (a === null) return null;
    const e = new Expr();
    e.a = a;
    this.space();
    const at = this.pos;
    if (this.eat("==") || this.eat("!=")) {
      e.op = this.text.charCodeAt(at) == 61 ? OP_EQ : OP_NE;
      const b = this.operand();
      if (b === null) return null;
      e.b = b;
      return e;
    }
    if (this.word("in")) {
      if (!this.eat("[")) return this.fail("expected '[' after in");
      e.op = OP_IN;
      while (true) {
        this.space();
        const item = this.stringLiteral();
        if (item === null) return this.fail("expected a string in the list");
        e.list.push(item);
        if (this.eat("]")) break;
        if (!this.eat(",")) return this.fail("expected ',' or ']'");
      }
      return e;
    }
    if (a.attribute.length > 0 && this.pendingMethod.length > 0) {
      const method = this.pendingMethod;
      const methodAt = this.pendingMethodAt;
      this.pendingMethod = "";
      if (method == "startsWith") e.op = OP_STARTS;
      else if (method == "endsWith") e.op = OP_ENDS;
      else if (method == "matches") e.op = OP_MATCHES;
      else return this.fail("unknown function '" + method + "' (expected startsWith, endsWith or matches)", methodAt);
      this.space();
      const argAt = this.pos;
      const arg = this.stringLiteral();
      if (arg === null) return this.fail("expected a string argument");
      if (!this.eat(")")) return this.fail("expected ')'");
      e.list.push(arg);
      if (e.op == OP_MATCHES) {
        const compiled = Regex.compile(arg);
        if (!compiled.ok) return this.fail("invalid regex (" + compiled.error + ")", argAt);
        e.regex = compiled.regex;
      }
      return e;
    }
    return this.fail(a.attribute.length > 0 ? "expected a comparison (==, !=, in, startsWith, endsWith, matches) after " + a.attribute : "expected a comparison", at > start ? at : start);
  }

  pendingMethod: string = "";
  pendingMethodAt: i32 = 0;

  word(w: string): bool {
    this.space();
    if (!this.text.startsWith(w, this.pos)) return false;
    const after = this.pos + w.length;
    if (after < this.text.length && isIdentChar(this.text.charCodeAt(after))) return false;
    this.pos = after;
    return true;
  }

  operand(): Operand | null {
    this.space();
    const start = this.pos;
    const literal = this.stringLiteral();
    const o = new Operand();
    if (literal !== null) { o.text = literal; return o; }
    if (this.error.length > 0) return null;
    const names = new Array<string>();
    while (true) {
      const identStart = this.pos;
      while (this.pos < this.text.length && isIdentChar(this.text.charCodeAt(this.pos))) this.pos++;
      if (this.pos == identStart) { this.fail(names.length == 0 ? "expected an attribute or a string" : "expected a name after '.'"); return null; }
      const name = this.text.substring(identStart, this.pos);
      if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 40 && names.length > 0) {
        // attribute.method( ... : the method applies to what came before.
        this.pendingMethod = name;
        this.pendingMethodAt = identStart;
        this.pos++;
        break;
      }
      names.push(name);
      if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 46) { this.pos++; continue; }
      break;
    }
    const attribute = names.join(".");
    if (attribute == "property") {
      if (!this.eat("(")) { this.fail("expected '(' after property"); return null; }
      while (true) {
        this.space();
        const segment = this.stringLiteral();
        if (segment === null) { this.fail("expected a string segment"); return null; }
        o.segments.push(segment);
        if (this.eat(")")) break;
        if (!this.eat(",")) { this.fail("expected ',' or ')'"); return null; }
      }
      o.attribute = attribute;
      return o;
    }
    if (KEYED.includes(attribute)) {
      if (!this.eat("[")) { this.fail(attribute + " needs a key, e.g. " + attribute + "[\"name\"]"); return null; }
      this.space();
      const key = this.stringLiteral();
      if (key === null) { this.fail("expected a quoted key"); return null; }
      if (!this.eat("]")) { this.fail("expected ']'"); return null; }
      o.attribute = attribute;
      o.text = attribute == "request.headers" ? asciiLowerCase(key) : key;
      return this.afterOperand(o);
    }
    if (!PLAIN.includes(attribute)) { this.fail("unknown attribute '" + attribute + "'", start); return null; }
    o.attribute = attribute;
    return this.afterOperand(o);
  }

  /** A method may follow a keyed attribute: request.headers["x"].startsWith("a"). */
  afterOperand(o: Operand): Operand {
    if (this.pendingMethod.length == 0 && this.pos < this.text.length && this.text.charCodeAt(this.pos) == 46) {
      const save = this.pos;
      this.pos++;
      const identStart = this.pos;
      while (this.pos < this.text.length && isIdentChar(this.text.charCodeAt(this.pos))) this.pos++;
      if (this.pos > identStart && this.pos < this.text.length && this.text.charCodeAt(this.pos) == 40) {
        this.pendingMethod = this.text.substring(identStart, this.pos);
        this.pendingMethodAt = identStart;
        this.pos++;
      } else {
        this.pos = save;
      }
    }
    return o;
  }

  stringLiteral(): string | null {
    if (this.pos >= this.text.length) return null;
    const quote = this.text.charCodeAt(this.pos);
    if (quote != 34 && quote != 39) return null;
    const start = this.pos;
    this.pos++;
    let out = "";
    while (true) {
      if (this.pos >= this.text.length) { this.fail("unterminated string", start); return null; }
      const c = this.text.charCodeAt(this.pos++);
      if (c == quote) break;
      if (c == 92 && this.pos < this.text.length) {
        const e = this.text.charCodeAt(this.pos++);
        out += e == 110 ? "\n" : e == 116 ? "\t" : String.fromCharCode(e);
      } else out += String.fromCharCode(c);
    }
    return out;
  }
}

function isIdentChar(c: i32): bool {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95;
}

function binary(op: u8, left: Expr, right: Expr): Expr {
  const e = new Expr();
  e.op = op;
  e.left = left;
  e.right = right;
  return e;
}

/** Parses and checks `text`; the error gives the 0-based position. */
export function parseExpression(text: string): ExprResult {
  const p = new Parser(text);
  const e = p.or();
  if (e === null || p.error.length > 0) return new ExprResult(null, p.error.length > 0 ? p.error : "invalid expression");
  p.space();
  if (p.pos < text.length) return new ExprResult(null, "unexpected '" + text.charAt(p.pos) + "' at position " + p.pos.toString());
  return new ExprResult(e, "");
}

// ---- evaluation ------------------------------------------------------------------------------

function one(v: string | null): string[] {
  const out = new Array<string>();
  if (v !== null) out.push(v);
  return out;
}

function values(o: Operand, r: RequestView): string[] {
  const a = o.attribute;
  if (a.length == 0) return [o.text];
  if (a == "request.headers") return one(r.header(o.text));
  if (a == "request.path") return one(r.path());
  if (a == "request.url_path") return one(r.urlPath());
  if (a == "request.method") return one(r.method());
  if (a == "request.host") return one(r.host());
  if (a == "request.scheme") return one(r.header(":scheme"));
  if (a == "request.query_params") return one(r.queryParam(o.text));
  if (a == "request.auth.claims") return r.claim(o.text);
  if (a == "request.auth.principal") return one(r.requestPrincipal());
  if (a == "request.auth.audiences") return r.claim("aud");
  if (a == "request.auth.presenter") return r.claim("azp");
  if (a == "source.address") return one(r.sourceAddress());
  if (a == "source.port") return one(r.sourcePort());
  if (a == "source.principal") return one(r.principal());
  if (a == "source.namespace") return one(r.sourceNamespace());
  if (a == "source.labels") return one(r.sourceLabel(o.text));
  if (a == "destination.address") return one(r.destinationAddress());
  if (a == "destination.port") return one(r.destinationPort());
  if (a == "destination.namespace") return one(r.property(["xds", "node", "metadata", "NAMESPACE"]));
  if (a == "destination.labels") return one(r.destinationLabel(o.text));
  if (a == "node.metadata") return one(r.property(["xds", "node", "metadata", o.text]));
  if (a == "consumer") return one(r.consumer());
  return one(r.property(o.segments));
}

function any(list: string[], test: (v: string, arg: string) => bool, arg: string): bool {
  for (let i = 0; i < list.length; i++) if (test(list[i], arg)) return true;
  return false;
}

export function evaluate(e: Expr, r: RequestView): bool {
  switch (e.op) {
    case OP_OR: return evaluate(e.left!, r) || evaluate(e.right!, r);
    case OP_AND: return evaluate(e.left!, r) && evaluate(e.right!, r);
    case OP_NOT: return !evaluate(e.left!, r);
    case OP_EQ:
    case OP_NE: {
      const a = values(e.a!, r);
      const b = values(e.b!, r);
      let equal = false;
      for (let i = 0; i < a.length && !equal; i++) for (let j = 0; j < b.length && !equal; j++) if (a[i] == b[j]) equal = true;
      return e.op == OP_EQ ? equal : !equal;
    }
    case OP_IN: {
      const a = values(e.a!, r);
      for (let i = 0; i < a.length; i++) if (e.list.includes(a[i])) return true;
      return false;
    }
    case OP_STARTS: return any(values(e.a!, r), (v: string, arg: string): bool => v.startsWith(arg), e.list[0]);
    case OP_ENDS: return any(values(e.a!, r), (v: string, arg: string): bool => v.endsWith(arg), e.list[0]);
    default: {
      const a = values(e.a!, r);
      // CEL's matches() is an RE2 search: the pattern may match anywhere unless anchored.
      for (let i = 0; i < a.length; i++) if (e.regex!.partialMatch(a[i])) return true;
      return false;
    }
  }
}

/** True when the expression reads the request's credentials (JWT claims or the API key consumer). */
export function usesCredentials(e: Expr): bool {
  if (e.left !== null && usesCredentials(e.left!)) return true;
  if (e.right !== null && usesCredentials(e.right!)) return true;
  const check = (o: Operand | null): bool => o !== null && (o.attribute.startsWith("request.auth") || o.attribute == "consumer");
  return check(e.a) || check(e.b);
}
