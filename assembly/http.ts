// Pieces of HTTP requests filters keep needing: the path without its query, query parameters
// and cookies (values as sent, without percent-decoding).

/** ":path" without its query string. */
export function urlPathOf(path: string): string {
  const q = path.indexOf("?");
  return q < 0 ? path : path.substring(0, q);
}

/** The first value of query parameter `name` in ":path" ("" for a bare key), or null. */
export function queryParameter(path: string, name: string): string | null {
  const q = path.indexOf("?");
  if (q < 0) return null;
  const parts = path.substring(q + 1).split("&");
  for (let i = 0; i < parts.length; i++) {
    const eq = parts[i].indexOf("=");
    const key = eq < 0 ? parts[i] : parts[i].substring(0, eq);
    if (key == name) return eq < 0 ? "" : parts[i].substring(eq + 1);
  }
  return null;
}

/** The value of cookie `name` in a Cookie header ("a=1; b=2"), or null. */
export function cookieValue(cookieHeader: string, name: string): string | null {
  const parts = cookieHeader.split(";");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i].trim();
    const eq = part.indexOf("=");
    if (eq > 0 && part.substring(0, eq) == name) return part.substring(eq + 1);
  }
  return null;
}

/** FNV-1a over the string's code units: a fast, stable hash for bucketing keys. */
export function fnv1a(text: string): u32 {
  let h: u32 = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= <u32>text.charCodeAt(i);
    h *= 16777619;
  }
  return h;
}
