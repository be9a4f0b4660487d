// A small JSON reader for filter configuration. Filters parse their configuration once, in
// onConfigure, so this favours clear errors (with line and column) and module size over speed.

export enum JsonKind { Null, Bool, Number, String, Array, Object }

export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  bool: bool = false;
  number: f64 = 0;
  string: string = "";
  items: JsonValue[] = [];
  keys: string[] = [];

  isNull(): bool { return this.kind == JsonKind.Null; }
  isBool(): bool { return this.kind == JsonKind.Bool; }
  isNumber(): bool { return this.kind == JsonKind.Number; }
  isString(): bool { return this.kind == JsonKind.String; }
  isArray(): bool { return this.kind == JsonKind.Array; }
  isObject(): bool { return this.kind == JsonKind.Object; }

  /** The member `key` of an object, or null when absent (or this is not an object). */
  get(key: string): JsonValue | null {
    if (this.kind != JsonKind.Object) return null;
    for (let i = 0; i < this.keys.length; i++) {
      if (unchecked(this.keys[i]) == key) return unchecked(this.items[i]);
    }
    return null;
  }

  has(key: string): bool { return this.get(key) !== null; }

  /** True when `number` is a whole number that fits an i64 exactly. */
  isInteger(): bool {
    return this.kind == JsonKind.Number && Math.floor(this.number) == this.number && Math.abs(this.number) <= 9007199254740991;
  }

  kindName(): string {
    switch (this.kind) {
      case JsonKind.Null: return "null";
      case JsonKind.Bool: return "boolean";
      case JsonKind.Number: return "number";
      case JsonKind.String: return "string";
      case JsonKind.Array: return "array";
      default: return "object";
    }
  }
}

export class JsonParseResult {
  constructor(public value: JsonValue | null, public error: string) {}
  get ok(): bool { return this.value !== null; }
}

class Parser {
  pos: i32 = 0;
  error: string = "";
  depth: i32 = 0;

  constructor(public text: string) {}

  fail(message: string): JsonValue | null {
    if (this.error.length == 0) {
      let line = 1;
      let column = 1;
      for (let i = 0; i < this.pos && i < this.text.length; i++) {
        if (this.text.charCodeAt(i) == 10) { line++; column = 1; } else column++;
      }
      this.error = message + " at line " + line.toString() + ", column " + column.toString();
    }
    return null;
  }

  skipSpace(): void {
    while (this.pos < this.text.length) {
      const c = this.text.charCodeAt(this.pos);
      if (c != 32 && c != 9 && c != 10 && c != 13) break;
      this.pos++;
    }
  }

  value(): JsonValue | null {
    this.skipSpace();
    if (this.pos >= this.text.length) return this.fail("unexpected end of JSON");
    const c = this.text.charCodeAt(this.pos);
    if (c == 123) return this.object();
    if (c == 91) return this.array();
    if (c == 34) {
      const s = this.stringLiteral();
      if (s === null) return null;
      const v = new JsonValue();
      v.kind = JsonKind.String;
      v.string = s;
      return v;
    }
    if (c == 45 || (c >= 48 && c <= 57)) return this.numberLiteral();
    if (this.text.startsWith("true", this.pos)) { this.pos += 4; return boolValue(true); }
    if (this.text.startsWith("false", this.pos)) { this.pos += 5; return boolValue(false); }
    if (this.text.startsWith("null", this.pos)) { this.pos += 4; return new JsonValue(); }
    return this.fail("unexpected character '" + String.fromCharCode(c) + "'");
  }

  object(): JsonValue | null {
    if (++this.depth > 64) return this.fail("nesting deeper than 64 levels");
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Object;
    this.skipSpace();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 125) { this.pos++; this.depth--; return v; }
    while (true) {
      this.skipSpace();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 34) return this.fail("expected a quoted key");
      const key = this.stringLiteral();
      if (key === null) return null;
      for (let i = 0; i < v.keys.length; i++) {
        if (v.keys[i] == key) return this.fail("duplicate key \"" + key + "\"");
      }
      this.skipSpace();
      if (this.pos >= this.text.length || this.text.charCodeAt(this.pos) != 58) return this.fail("expected ':' after key");
      this.pos++;
      const item = this.value();
      if (item === null) return null;
      v.keys.push(key);
      v.items.push(item);
      this.skipSpace();
      if (this.pos >= this.text.length) return this.fail("unterminated object");
      const c = this.text.charCodeAt(this.pos++);
      if (c == 125) break;
      if (c != 44) { this.pos--; return this.fail("expected ',' or '}'"); }
    }
    this.depth--;
    return v;
  }

  array(): JsonValue | null {
    if (++this.depth > 64) return this.fail("nesting deeper than 64 levels");
    this.pos++;
    const v = new JsonValue();
    v.kind = JsonKind.Array;
    this.skipSpace();
    if (this.pos < this.text.length && this.text.charCodeAt(this.pos) == 93) { this.pos++; this.depth--; return v; }
    while (true) {
      const item = this.value();
      if (item === null) return null;
      v.items.push(item);
      this.skipSpace();
      if (this.pos >= this.text.length) return this.fail("unterminated array");
      const c = this.text.charCodeAt(this.pos++);
      if (c == 93) break;
      if (c != 44) { this.pos--; return this.fail("expected ',' or ']'"); }
    }
    this.depth--;
    return v;
  }

  stringLiteral(): string | null {
    this.pos++;
    let out = "";
    let runStart = this.pos;
    while (true) {
      if (this.pos >= this.text.length) { this.fail("unterminated string"); return null; }
      const c = this.text.charCodeAt(this.pos);
      if (c == 34) break;
      if (c < 32) { this.fail("control character in string"); return null; }
      if (c == 92) {
        out += this.text.substring(runStart, this.pos);
        this.pos++;
        if (this.pos >= this.text.length) { this.fail("unterminated string"); return null; }
        const e = this.text.charCodeAt(this.pos);
        if (e == 110) out += "\n";
        else if (e == 116) out += "\t";
        else if (e == 114) out += "\r";
        else if (e == 98) out += "\b";
        else if (e == 102) out += "\f";
        else if (e == 34 || e == 92 || e == 47) out += String.fromCharCode(e);
        else if (e == 117) {
          if (this.pos + 4 >= this.text.length) { this.fail("bad \\u escape"); return null; }
          let code = 0;
          for (let k = 1; k <= 4; k++) {
            const h = hexValue(this.text.charCodeAt(this.pos + k));
            if (h < 0) { this.fail("bad \\u escape"); return null; }
            code = (code << 4) | h;
          }
          out += String.fromCharCode(code);
          this.pos += 4;
        } else { this.fail("bad escape '\\" + String.fromCharCode(e) + "'"); return null; }
        this.pos++;
        runStart = this.pos;
        continue;
      }
      this.pos++;
    }
    out += this.text.substring(runStart, this.pos);
    this.pos++;
    return out;
  }

  // Hand-rolled rather than F64.parseFloat: that pulls ~10 KB of tables into every module,
  // and configuration numbers (limits, percentages, durations) need no more than this.
  numberLiteral(): JsonValue | null {
    const text = this.text;
    let negative = false;
    if (text.charCodeAt(this.pos) == 45) { negative = true; this.pos++; }
    let n: f64 = 0;
    let digits = 0;
    while (this.pos < text.length && isDigit(text.charCodeAt(this.pos))) {
      n = n * 10 + <f64>(text.charCodeAt(this.pos++) - 48);
      digits++;
    }
    if (digits == 0) return this.fail("bad number");
    let exponent: i32 = 0;
    if (this.pos < text.length && text.charCodeAt(this.pos) == 46) {
      this.pos++;
      let fraction = 0;
      while (this.pos < text.length && isDigit(text.charCodeAt(this.pos))) {
        n = n * 10 + <f64>(text.charCodeAt(this.pos++) - 48);
        exponent--;
        fraction++;
      }
      if (fraction == 0) return this.fail("bad number: digits expected after '.'");
    }
    if (this.pos < text.length && (text.charCodeAt(this.pos) | 32) == 101) {
      this.pos++;
      let sign: i32 = 1;
      if (this.pos < text.length && (text.charCodeAt(this.pos) == 43 || text.charCodeAt(this.pos) == 45)) {
        if (text.charCodeAt(this.pos) == 45) sign = -1;
        this.pos++;
      }
      let e: i32 = 0;
      let expDigits = 0;
      while (this.pos < text.length && isDigit(text.charCodeAt(this.pos))) {
        if (e < 10000) e = e * 10 + (text.charCodeAt(this.pos) - 48);
        this.pos++;
        expDigits++;
      }
      if (expDigits == 0) return this.fail("bad number: digits expected in exponent");
      exponent += sign * e;
    }
    while (exponent > 0) { n *= 10; exponent--; }
    while (exponent < 0) { n /= 10; exponent++; }
    const v = new JsonValue();
    v.kind = JsonKind.Number;
    v.number = negative ? -n : n;
    return v;
  }
}

function isDigit(c: i32): bool { return c >= 48 && c <= 57; }

function hexValue(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 32;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

function boolValue(b: bool): JsonValue {
  const v = new JsonValue();
  v.kind = JsonKind.Bool;
  v.bool = b;
  return v;
}

/** Parses `text` as one JSON value; the error names what is wrong and where. */
export function parseJson(text: string): JsonParseResult {
  const parser = new Parser(text);
  const value = parser.value();
  if (value === null) return new JsonParseResult(null, parser.error);
  parser.skipSpace();
  if (parser.pos < text.length) {
    parser.fail("unexpected text after the JSON value");
    return new JsonParseResult(null, parser.error);
  }
  return new JsonParseResult(value, "");
}
