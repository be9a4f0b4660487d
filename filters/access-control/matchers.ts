// Istio's string matching: "exact", "prefix*", "*suffix", "*" (anything non-empty); paths also
// take templates, where {*} is one segment and {**} any number of segments.
import { Regex, RegexEncoding, asciiLowerCase } from "../../assembly";

export class StringMatcher {
  /** 0 exact, 1 prefix, 2 suffix, 3 any non-empty, 4 regex (path templates). */
  kind: u8 = 0;
  text: string = "";
  regex: Regex | null = null;
  /** Compare lower-cased (hosts). */
  ignoreCase: bool = false;

  matches(value: string): bool {
    const v = this.ignoreCase ? asciiLowerCase(value) : value;
    switch (this.kind) {
      case 0: return v == this.text;
      case 1: return v.startsWith(this.text);
      case 2: return v.endsWith(this.text);
      case 3: return v.length > 0;
      default: return this.regex!.fullMatch(v);
    }
  }

  /** The exact value this matcher accepts, or null when it accepts more than one. */
  exactValue(): string | null { return this.kind == 0 ? this.text : null; }
}

export class MatcherResult {
  constructor(public matcher: StringMatcher | null, public error: string) {}
}

/** Parses an Istio match string; paths may use {*} and {**} templates. */
export function parseMatcher(pattern: string, isPath: bool, ignoreCase: bool = false): MatcherResult {
  const m = new StringMatcher();
  m.ignoreCase = ignoreCase;
  const text = ignoreCase ? asciiLowerCase(pattern) : pattern;
  if (isPath && text.indexOf("{") >= 0) return pathTemplate(text);
  if (text == "*") { m.kind = 3; return new MatcherResult(m, ""); }
  const starAt = text.indexOf("*");
  if (starAt < 0) { m.kind = 0; m.text = text; return new MatcherResult(m, ""); }
  if (starAt == text.length - 1 && text.indexOf("*") == starAt) { m.kind = 1; m.text = text.substring(0, starAt); return new MatcherResult(m, ""); }
  if (starAt == 0 && text.lastIndexOf("*") == 0) { m.kind = 2; m.text = text.substring(1); return new MatcherResult(m, ""); }
  return new MatcherResult(null, "\"" + pattern + "\": '*' may only start or end a value");
}

/** "/api/{*}/items/{**}" -> a full-match regex; {**} must be the last segment, as in Istio. */
function pathTemplate(template: string): MatcherResult {
  if (!template.startsWith("/")) return new MatcherResult(null, "\"" + template + "\": a path template must start with /");
  const segments = template.substring(1).split("/");
  let regex = "";
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (s == "{**}") {
      if (i != segments.length - 1) return new MatcherResult(null, "\"" + template + "\": {**} must be the last segment");
      regex += "(/.*)?";
      continue;
    }
    regex += "/";
    if (s == "{*}") { regex += "[^/]+"; continue; }
    if (s.indexOf("{") >= 0 || s.indexOf("}") >= 0) {
      return new MatcherResult(null, "\"" + template + "\": segment \"" + s + "\" must be {*}, {**} or text without braces");
    }
    if (s.indexOf("*") >= 0) return new MatcherResult(null, "\"" + template + "\": '*' cannot be mixed with templates");
    regex += escapeRegex(s);
  }
  // Envoy's uri_template matcher compares bytes: a segment is any bytes but '/'.
  const compiled = Regex.compile(regex, RegexEncoding.Latin1);
  if (!compiled.ok) return new MatcherResult(null, "\"" + template + "\": " + compiled.error);
  const m = new StringMatcher();
  m.kind = 4;
  m.regex = compiled.regex;
  m.text = template;
  return new MatcherResult(m, "");
}

function escapeRegex(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charAt(i);
    if ("\\.+*?()|[]{}^$".indexOf(c) >= 0) out += "\\";
    out += c;
  }
  return out;
}

/** True when any matcher accepts `value` (false for an absent value). */
export function anyMatches(matchers: StringMatcher[], value: string | null): bool {
  if (value === null) return false;
  for (let i = 0; i < matchers.length; i++) if (matchers[i].matches(value)) return true;
  return false;
}
