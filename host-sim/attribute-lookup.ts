// Envoy's attributes (its property paths) as host-sim resolves them, in one place: those a root
// context reads (plugin_*, xds.node, what a test added) and those of a stream (request.*,
// response.*, connection.*, source.*, metadata, filter state, ...), encoded as Envoy encodes them.
import { celValue, encode, encodeJsonValue, lookupJson, protoMetadata, protoNode, type NodeInfo } from './attributes.js';
import type { StreamRecord } from './stream/record.js';
import type { HeaderList } from './pairs.js';

/** What a root attribute is read from: the plugin's identity and the host's node. */
export interface RootAttributeSource {
  readonly name: string;
  readonly rootId: string;
  readonly vmId: string;
  readonly host: { readonly node: NodeInfo; readonly rootAttributes: Map<string, Uint8Array> };
}

/** Attributes a root context can read: plugin_*, xds.node, and what the test added. */
export function rootAttribute(plugin: RootAttributeSource, path: string[]): Uint8Array | undefined {
  const [top, ...rest] = path;
  if (rest.length === 0) {
    if (top === 'plugin_name') return encode.string(plugin.name);
    if (top === 'plugin_root_id') return encode.string(plugin.rootId);
    if (top === 'plugin_vm_id') return encode.string(plugin.vmId);
  }
  const extra = plugin.host.rootAttributes.get(path.join('.'));
  if (extra) return extra;
  if (top === 'xds' && rest[0] === 'node') {
    if (rest.length === 1) return protoNode(plugin.host.node);
    if (rest[1] === 'id' && rest.length === 2) return encode.string(plugin.host.node.id ?? '');
    if (rest[1] === 'cluster' && rest.length === 2) return encode.string(plugin.host.node.cluster ?? '');
    if (rest[1] === 'metadata') {
      const value = rest.length === 2 ? plugin.host.node.metadata ?? {} : lookupJson(plugin.host.node.metadata ?? {}, rest.slice(2));
      return encodeJsonValue(value);
    }
  }
  return undefined;
}

/**
 * A stream's attribute as a filter sees it: request.* comes from the request headers, which
 * Envoy lets a filter read only until it continues them (and again in on_log).
 */
export function streamAttribute(r: StreamRecord, path: string[], readerSeesRequestHeaders: boolean, now: number): Uint8Array | undefined {
  const key = path.join('.');
  const extra = r.options.attributes.get(key);
  if (extra) return extra;
  const [top, ...rest] = path;
  if (top === 'request' && HEADER_DERIVED.has(rest[0]) && !r.logging && !readerSeesRequestHeaders) {
    return undefined;
  }
  switch (top) {
    case 'request': return requestAttribute(r, rest, now);
    case 'response': return responseAttribute(r, rest);
    case 'source':
    case 'destination': {
      const address = top === 'source' ? r.options.source : r.options.destination;
      if (rest[0] === 'address') return encode.string(address);
      if (rest[0] === 'port') return encode.int(Number(address.slice(address.lastIndexOf(':') + 1)) || 0);
      return undefined;
    }
    case 'connection': return connectionAttribute(r, rest);
    case 'metadata':
      if (rest.length === 0) return protoMetadata(r.options.dynamicMetadata);
      return rest[0] === 'filter_metadata' ? celValue(lookupJson(r.options.dynamicMetadata, rest.slice(1))) : undefined;
    case 'connection_id':
      return encode.uint(r.options.connectionId);
    case 'upstream':
      if (!r.upstreamInfo) return undefined;
      if (rest[0] === 'address') return encode.string(`${r.upstreamInfo.cluster}:80`);
      if (rest[0] === 'port') return encode.int(80);
      return undefined;
    case 'xds': {
      const route = r.routeDecision ?? r.reportedRoute;
      if (rest[0] === 'route_name') return route?.route?.name !== undefined ? encode.string(route.route.name) : undefined;
      if (rest[0] === 'cluster_name') return route?.cluster ? encode.string(route.cluster) : undefined;
      return undefined;
    }
    case 'filter_state': {
      const object = r.options.filterStateObjects[rest[0]];
      if (object) return rest.length > 1 ? celValue(lookupJson(object, rest.slice(1))) : encode.map([]);
      return rest.length ? r.filterState.get(rest.join('.')) : undefined;
    }
    default:
      // Any other name is a property a module stored with set_property (under its first segment).
      return r.filterState.get(`wasm.${top}`);
  }
}

const header = (list: HeaderList, name: string) => list.find(([k]) => k === name)?.[1];
const optional = (v: string | undefined) => (v === undefined ? undefined : encode.string(v));

/** request.*: from the request headers, the body's size and the stream's timing. */
function requestAttribute(r: StreamRecord, rest: string[], now: number): Uint8Array | undefined {
  const req = r.requestHeaders;
  const fullPath = header(req, ':path') ?? '';
  const name = rest[0];
  if (name === 'headers') {
    if (rest.length === 1) return encode.map(req.filter(([k]) => !k.startsWith(':')));
    const values = req.filter(([k]) => k === rest[1].toLowerCase()).map(([, v]) => v);
    return values.length ? encode.string(values.join(',')) : undefined;
  }
  if (rest.length !== 1) return undefined;
  switch (name) {
    case 'path': return encode.string(fullPath);
    case 'url_path': return encode.string(fullPath.split('?')[0]);
    case 'host': return encode.string(header(req, ':authority') ?? '');
    case 'scheme': return encode.string(header(req, ':scheme') ?? 'http');
    case 'method': return encode.string(header(req, ':method') ?? '');
    case 'referer': return optional(header(req, 'referer'));
    case 'useragent': return optional(header(req, 'user-agent'));
    case 'id': return optional(header(req, 'x-request-id') ?? r.options.requestId);
    case 'protocol': return encode.string(r.options.protocol);
    case 'query': return encode.string(fullPath.includes('?') ? fullPath.slice(fullPath.indexOf('?') + 1) : '');
    case 'time': return encode.nanos(r.startedAt);
    case 'duration': return r.finished ? encode.nanos(now - r.startedAt) : undefined;
    case 'size': { const v = header(req, 'content-length'); return encode.int(v === undefined ? r.requestBodySize : Number(v)); }
    case 'total_size': return encode.int(r.requestBodySize + headerBytes(req));
    case 'headers_bytes': return encode.int(headerBytes(req));
    default: return undefined;
  }
}

/** response.*: once the response has begun. */
function responseAttribute(r: StreamRecord, rest: string[]): Uint8Array | undefined {
  if (!r.responding && r.responseHeaders.length === 0) return undefined;
  const res = r.responseHeaders;
  const name = rest[0];
  if (name === 'headers' || name === 'trailers') {
    const list = name === 'headers' ? res.filter(([k]) => !k.startsWith(':')) : r.responseTrailers;
    if (rest.length === 1) return encode.map(list);
    const values = list.filter(([k]) => k === rest[1].toLowerCase()).map(([, v]) => v);
    return values.length ? encode.string(values.join(',')) : undefined;
  }
  if (rest.length !== 1) return undefined;
  switch (name) {
    case 'code': { const code = Number(header(res, ':status') ?? 0); return code ? encode.int(code) : undefined; }
    case 'code_details': return encode.string(r.responseCodeDetails);
    case 'flags': return encode.int(r.responseFlags);
    case 'grpc_status': {
      const v = header(r.responseTrailers, 'grpc-status') ?? header(res, 'grpc-status');
      return v === undefined ? undefined : encode.int(Number(v));
    }
    case 'size': return encode.int(r.responseBody.length);
    case 'total_size': return encode.int(r.responseBody.length + headerBytes(res));
    case 'headers_bytes': return encode.int(headerBytes(res));
    default: return undefined;
  }
}

/** connection.*: the downstream connection and its TLS peer. */
function connectionAttribute(r: StreamRecord, rest: string[]): Uint8Array | undefined {
  if (rest[0] === 'id') return encode.uint(r.options.connectionId);
  const tls = r.options.tls;
  const peer = tls?.peerCertificate;
  if (rest[0] === 'mtls') return encode.bool(peer !== undefined);
  switch (rest[0]) {
    case 'tls_version': return optional(tls ? tls.version ?? 'TLSv1.3' : undefined);
    case 'requested_server_name': return encode.string(tls?.sni ?? '');
    case 'uri_san_peer_certificate': return optional(peer?.uriSan);
    case 'dns_san_peer_certificate': return optional(peer?.dnsSan);
    case 'subject_peer_certificate': return optional(peer?.subject);
    default: return undefined;
  }
}

function headerBytes(list: HeaderList): number {
  return list.reduce((n, [k, v]) => n + k.length + v.length, 0);
}

/** request.* attributes Envoy derives from the request headers. */
const HEADER_DERIVED = new Set(['path', 'url_path', 'host', 'scheme', 'method', 'headers', 'referer', 'useragent', 'id', 'query', 'size']);
