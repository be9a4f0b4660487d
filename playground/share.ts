// A whole setup in the page's address: #setup=<base64url of its JSON>, so a link shows a
// colleague the same filters, configurations, upstreams and request. Modules loaded from a file
// travel by name only: the link says which, and the receiver loads them again.
import { base64, type Setup } from './session.js';

const PREFIX = '#setup=';

function toBase64Url(text: string): string {
  return base64(new TextEncoder().encode(text)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

function fromBase64Url(encoded: string): string {
  const binary = atob(encoded.replaceAll('-', '+').replaceAll('_', '/'));
  return new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

export function encodeSetup(setup: Setup): string { return PREFIX + toBase64Url(JSON.stringify(setup)); }

/** The setup a link carries; undefined without one; throws with the reason when it is damaged. */
export function decodeSetup(hash: string): Setup | undefined {
  if (!hash.startsWith(PREFIX)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(fromBase64Url(hash.slice(PREFIX.length)));
  } catch {
    throw new Error('the link\'s setup is damaged (it is not base64url-encoded JSON): was it cut short?');
  }
  const setup = value as Setup;
  if (!Array.isArray(setup?.chain) || !Array.isArray(setup.upstreams) || typeof setup.request?.path !== 'string' || typeof setup.burst?.count !== 'number') {
    throw new Error('the link\'s setup lacks chain, upstreams, request or burst');
  }
  return setup;
}
