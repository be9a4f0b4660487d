// Paths as Envoy normalizes them (normalize_path, merge_slashes, path_with_escaped_slashes_action),
// so a rule on /admin cannot be dodged with /./admin, /x/../admin, /%61dmin, //admin or
// /admin\x when the listener does not normalize, and agrees with it when it does. Measured
// against Envoy 1.40: only unreserved escapes are decoded (letters keep their case), %2e counts
// as a dot, a raw backslash is a slash, dot segments are resolved and clamped at the root, and
// the query is left alone.
import { ConfigReader } from "./config";
import { JsonValue } from "./util/json";

/** Decode %2F and %5C to '/' (Envoy's UNESCAPE_AND_FORWARD / UNESCAPE_AND_REDIRECT). */
export const ESCAPED_SLASHES_UNESCAPE: u8 = 0;
/** Keep them encoded (KEEP_UNCHANGED): "a%2Fb" is one segment. */
export const ESCAPED_SLASHES_KEEP: u8 = 1;
/** A path containing one cannot be normalized (REJECT_REQUEST). */
export const ESCAPED_SLASHES_REJECT: u8 = 2;
const ESCAPED_SLASHES_NAMES = ["unescape", "keep", "reject"];

/** The normalized path, or why it cannot be normalized (a filter then denies the request). */
export class NormalizedPath {
  constructor(public path: string, public problem: string) {}
  get ok(): bool { return this.problem.length == 0; }
}

/** `"path_normalization": {"escaped_slashes": "unescape" | "keep" | "reject"}` (default unescape). */
export function parsePathNormalization(r: ConfigReader, root: JsonValue): u8 {
  const value = root.get("path_normalization");
  if (value === null || !r.object(value, "path_normalization", ["escaped_slashes"])) return ESCAPED_SLASHES_UNESCAPE;
  return <u8>ESCAPED_SLASHES_NAMES.indexOf(r.choice(value, "escaped_slashes", "path_normalization", ESCAPED_SLASHES_NAMES, "unescape"));
}

function hexValue(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

function isUnreserved(c: i32): bool {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 45 || c == 46 || c == 95 || c == 126;
}

/**
 * `path` (":path", with or without a query) normalized as Envoy does with normalize_path and
 * merge_slashes on; `escapedSlashes` says what %2F and %5C mean. A fragment or an encoded NUL
 * cannot be normalized (Envoy answers 400).
 */
export function normalizePath(path: string, escapedSlashes: u8 = ESCAPED_SLASHES_UNESCAPE): NormalizedPath {
  const q = path.indexOf("?");
  const raw = q < 0 ? path : path.substring(0, q);
  const query = q < 0 ? "" : path.substring(q);
  if (path.indexOf("#") >= 0) return new NormalizedPath("", "the path has a fragment ('#')");
  if (raw.length == 0 || (raw.charCodeAt(0) != 47 && raw.charCodeAt(0) != 92)) return new NormalizedPath("", "the path does not start with '/'");

  // Pass 1: decode what Envoy decodes; backslashes become slashes.
  let decoded = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c == 92) { decoded += "/"; continue; }
    if (c != 37) { decoded += String.fromCharCode(c); continue; }
    const hi = i + 2 < raw.length ? hexValue(raw.charCodeAt(i + 1)) : -1;
    const lo = i + 2 < raw.length ? hexValue(raw.charCodeAt(i + 2)) : -1;
    if (hi < 0 || lo < 0) { decoded += "%"; continue; }
    const byte = hi * 16 + lo;
    if (byte == 0) return new NormalizedPath("", "the path has an encoded NUL (%00)");
    if (byte == 47 || byte == 92) {
      if (escapedSlashes == ESCAPED_SLASHES_REJECT) return new NormalizedPath("", "the path has an encoded slash (%2F or %5C)");
      if (escapedSlashes == ESCAPED_SLASHES_UNESCAPE) { decoded += "/"; i += 2; continue; }
      decoded += raw.substring(i, i + 3);
      i += 2;
      continue;
    }
    if (isUnreserved(byte)) decoded += String.fromCharCode(byte);
    else decoded += raw.substring(i, i + 3);
    i += 2;
  }

  // Pass 2: merge slashes and resolve dot segments ("..;x" counts as "..", as in Envoy).
  const segments = decoded.split("/");
  const out = new Array<string>();
  let trailingSlash = false;
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i];
    const last = i == segments.length - 1;
    if (s.length == 0) { if (last) trailingSlash = true; continue; }
    if (s == "." || s.startsWith(".;")) { trailingSlash = last; continue; }
    if (s == ".." || s.startsWith("..;")) {
      if (out.length > 0) out.pop();
      trailingSlash = last;
      continue;
    }
    out.push(s);
    trailingSlash = false;
  }
  let result = "/" + out.join("/");
  if (trailingSlash && out.length > 0) result += "/";
  return new NormalizedPath(result + query, "");
}
