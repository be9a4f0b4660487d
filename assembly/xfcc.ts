// Envoy's x-forwarded-client-cert header: elements separated by ',', one per proxy that added
// one, each a ';'-separated list of key=value pairs (By, Hash, Cert, Chain, Subject, URI, DNS).
// A value holding ',', ';' or '=' is double-quoted, with '"' inside escaped as '\"'. Parsing it
// properly matters: a certificate Subject may contain "URI=" text chosen by whoever got it signed.

/** One element: the pairs in order (keys lower-cased; keys are case-insensitive). */
export class XfccElement {
  keys: string[] = [];
  values: string[] = [];

  /** The first value of `key` (lower case), or null. */
  get(key: string): string | null {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] == key) return this.values[i];
    return null;
  }
}

/** The header's elements, or null when it is malformed (an unterminated quote, a pair without '='). */
export function parseXfcc(header: string): XfccElement[] | null {
  const elements = new Array<XfccElement>();
  let element = new XfccElement();
  let token = "";
  let key: string | null = null;
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i <= header.length; i++) {
    const c = i < header.length ? header.charCodeAt(i) : -1;
    if (quoted) {
      if (c < 0) return null;
      if (c == 0x5c && i + 1 < header.length && header.charCodeAt(i + 1) == 0x22) { token += "\""; i++; continue; }
      if (c == 0x22) { quoted = false; continue; }
      token += String.fromCharCode(c);
      continue;
    }
    if (c == 0x22 && token.length == 0 && key !== null) { quoted = true; wasQuoted = true; continue; }
    if (c == 0x3d && key === null) { key = token.trim().toLowerCase(); token = ""; continue; }
    if (c == 0x3b || c == 0x2c || c < 0) {
      const text = wasQuoted ? token : token.trim();
      if (key === null) {
        // Only an empty pair may lack '=' (a trailing ';').
        if (text.length > 0) return null;
      } else {
        if (key!.length == 0) return null;
        element.keys.push(key!);
        element.values.push(text);
      }
      key = null;
      token = "";
      wasQuoted = false;
      if (c != 0x3b) {
        if (element.keys.length > 0) elements.push(element);
        element = new XfccElement();
      }
      continue;
    }
    if (wasQuoted) { if (c != 0x20) return null; continue; }
    token += String.fromCharCode(c);
  }
  return elements;
}
