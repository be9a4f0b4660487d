// The connection manager's path normalization (normalize_path, merge_slashes,
// path_with_escaped_slashes_action), applied to :path before any filter, as measured in Envoy
// 1.40: unreserved escapes decoded (letters keep their case), %2e is a dot, a backslash is a
// slash, dot segments resolved and clamped at the root ("..;x" counts as ".."), the query
// untouched. A fragment is refused whatever the settings.

export type EscapedSlashesAction = 'KEEP_UNCHANGED' | 'REJECT_REQUEST' | 'UNESCAPE_AND_REDIRECT' | 'UNESCAPE_AND_FORWARD';

export interface PathNormalization {
  normalizePath?: boolean;
  mergeSlashes?: boolean;
  escapedSlashes?: EscapedSlashesAction;
}

/** What the connection manager does with a request's path. */
export type PathVerdict = { path: string } | { reject: string } | { redirect: string };

const UNRESERVED = /[A-Za-z0-9\-._~]/;

export function normalizeRequestPath(fullPath: string, settings: PathNormalization): PathVerdict {
  if (fullPath.includes('#')) return { reject: 'path_normalization_failed' };
  const q = fullPath.indexOf('?');
  let path = q < 0 ? fullPath : fullPath.slice(0, q);
  const query = q < 0 ? '' : fullPath.slice(q);
  const action = settings.escapedSlashes ?? 'KEEP_UNCHANGED';
  const hasEscapedSlash = /%(2f|5c)/i.test(path);
  if (hasEscapedSlash && action === 'REJECT_REQUEST') return { reject: 'path_normalization_failed' };
  const unescape = hasEscapedSlash && (action === 'UNESCAPE_AND_REDIRECT' || action === 'UNESCAPE_AND_FORWARD');
  if (unescape) path = path.replace(/%(2f|5c)/gi, '/');
  if (settings.normalizePath) {
    if (/%00/.test(path)) return { reject: 'path_normalization_failed' };
    path = path.replace(/%([0-9a-fA-F]{2})/g, (escape, hex: string) => {
      const c = String.fromCharCode(parseInt(hex, 16));
      return UNRESERVED.test(c) ? c : escape;
    }).replaceAll('\\', '/');
    const out: string[] = [];
    const segments = path.split('/').slice(1);
    segments.forEach((s, i) => {
      const last = i === segments.length - 1;
      if (s === '.' || s.startsWith('.;')) { if (last) out.push(''); return; }
      if (s === '..' || s.startsWith('..;')) { out.pop(); if (last) out.push(''); return; }
      out.push(s);
    });
    path = `/${out.join('/')}`;
  }
  if (settings.mergeSlashes) path = path.replace(/\/{2,}/g, '/');
  if (unescape && action === 'UNESCAPE_AND_REDIRECT') return { redirect: path + query };
  return { path: path + query };
}
