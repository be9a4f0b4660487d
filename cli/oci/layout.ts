// The image layouts Wasm runtimes pull. Push writes Istio's "compat" variant (one tar+gzip layer
// holding plugin.wasm); pull also reads the Docker schema2 variant, the two-layer OCI variant with
// an application/vnd.module.wasm.content.layer.v1+wasm layer, and the CNCF artifact layout.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociLayerTarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerLayerTarGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  wasmContentLayer: 'application/vnd.module.wasm.content.layer.v1+wasm',
  wasmConfig: 'application/vnd.module.wasm.config.v1+json',
  cncfWasmLayer: 'application/wasm',
  cncfWasmConfig: 'application/vnd.wasm.config.v1+json',
} as const;

export const ACCEPT_MANIFESTS = [MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');

export interface Descriptor { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }

export interface Manifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export function sha256(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

/** A one-file ustar archive with fixed metadata, so the same module always gives the same bytes. */
export function tarOne(name: string, content: Uint8Array): Uint8Array {
  const header = new Uint8Array(512);
  const put = (text: string, offset: number) => header.set(new TextEncoder().encode(text), offset);
  put(name, 0);
  put(octal(0o644, 8), 100);
  put(octal(0, 8), 108);
  put(octal(0, 8), 116);
  put(octal(content.length, 12), 124);
  put(octal(0, 12), 136);
  put('        ', 148);
  put('0', 156);
  put('ustar\0', 257);
  put('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  put(octal(sum, 7) + ' ', 148);
  const padded = Math.ceil(content.length / 512) * 512;
  const out = new Uint8Array(512 + padded + 1024);
  out.set(header, 0);
  out.set(content, 512);
  return out;
}

/** The files of a ustar archive. */
export function untar(archive: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const decoder = new TextDecoder();
  let offset = 0;
  while (offset + 512 <= archive.length) {
    const header = archive.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) => decoder.decode(header.subarray(start, start + length)).replace(/\0.*$/s, '').trim();
    const prefix = field(345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12) || '0', 8);
    const type = field(156, 1);
    if (Number.isNaN(size) || offset + 512 + size > archive.length) throw new Error('the layer is not a valid tar archive');
    if (type === '0' || type === '') files.set(name.replace(/^\.\//, ''), archive.slice(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

export interface ImageParts {
  manifest: Manifest;
  manifestBytes: Uint8Array;
  config: Uint8Array;
  layer: Uint8Array;
  /** The manifest's digest: what Istio compares a WasmPlugin's `sha256` with. */
  digest: string;
}

/** Istio's compat image for a module: deterministic, so pushing twice gives one digest. */
export function compatImage(module: Uint8Array): ImageParts {
  const tar = tarOne('plugin.wasm', module);
  const layer = new Uint8Array(gzipSync(tar, { level: 9 }));
  // The gzip header names the OS that wrote it; "unknown" everywhere keeps the digest the same on every platform.
  layer[9] = 0xff;
  const config = new TextEncoder().encode(JSON.stringify({
    architecture: 'wasm', os: 'wasip1',
    rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
    config: {},
  }));
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    config: { mediaType: MEDIA.ociConfig, digest: sha256(config), size: config.length },
    layers: [{ mediaType: MEDIA.ociLayerTarGzip, digest: sha256(layer), size: layer.length }],
    annotations: { 'module.wasm.image/variant': 'compat' },
  };
  const manifestBytes = new TextEncoder().encode(JSON.stringify(manifest));
  return { manifest, manifestBytes, config, layer, digest: sha256(manifestBytes) };
}

/** Which layer of a pulled manifest holds the module, and how it is packed. */
export function moduleLayer(manifest: Manifest): { layer: Descriptor; packed: 'tar+gzip' | 'raw' } {
  const wasm = manifest.layers.find((l) => l.mediaType === MEDIA.wasmContentLayer || l.mediaType === MEDIA.cncfWasmLayer);
  if (wasm) return { layer: wasm, packed: 'raw' };
  const tar = manifest.layers.find((l) => l.mediaType === MEDIA.ociLayerTarGzip || l.mediaType === MEDIA.dockerLayerTarGzip);
  if (tar) return { layer: tar, packed: 'tar+gzip' };
  throw new Error(`no Wasm layer in the manifest (layer types: ${manifest.layers.map((l) => l.mediaType).join(', ') || 'none'})`);
}

/** A compat layer's tar (the bytes its config's diff_id names); a corrupt gzip stream is an Error. */
/** The layer unpacked, refused past `maxBytes` unpacked (a gzip bomb stops there). */
export function gunzipLayer(layer: Uint8Array, maxBytes: number): Uint8Array {
  try {
    return new Uint8Array(gunzipSync(layer, { maxOutputLength: maxBytes }));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new Error(`the layer unpacks to more than ${maxBytes} bytes: refusing it`);
    throw new Error(`the layer is not gzip data: ${(e as Error).message}`);
  }
}

/** The module inside a compat layer's tar: plugin.wasm, else the only .wasm file. */
export function moduleFromTar(tar: Uint8Array): Uint8Array {
  const files = untar(tar);
  const wasm = files.get('plugin.wasm') ?? [...files.entries()].filter(([n]) => n.endsWith('.wasm')).map(([, b]) => b)[0];
  if (!wasm) throw new Error(`the layer holds no plugin.wasm (files: ${[...files.keys()].join(', ') || 'none'})`);
  return wasm;
}
