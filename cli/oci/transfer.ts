// wfk push and wfk pull.
import { ACCEPT_MANIFESTS, MEDIA, compatImage, gunzipLayer, moduleFromTar, moduleLayer, sha256, type Descriptor, type Manifest } from './layout.js';
import { RegistryClient, RegistryError, fail, parseReference, type RegistryOptions } from './registry.js';

export interface PushResult {
  /** The manifest digest: pin the image by it. */
  digest: string;
  /** What Istio's WasmPlugin needs: url (by digest) and sha256 (the manifest digest Istio verifies). */
  url: string;
  sha256: string;
}

export interface TransferOptions extends RegistryOptions {
  progress?: (line: string) => void;
  /** A repository of the same registry to mount blobs from instead of uploading them. */
  mountFrom?: string;
}

/** Uploads one blob unless the repository has it (or can mount it). */
export async function uploadBlob(client: RegistryClient, repository: string, data: Uint8Array, options: TransferOptions): Promise<void> {
  const digest = sha256(data);
  const scope = `repository:${repository}:pull,push`;
  const head = await client.request('HEAD', `/v2/${repository}/blobs/${digest}`, scope);
  if (head.status === 200) {
    options.progress?.(`  ${digest.slice(0, 19)}: already in ${repository}`);
    return;
  }
  const mount = options.mountFrom ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(options.mountFrom)}` : '';
  const started = await client.request('POST', `/v2/${repository}/blobs/uploads/${mount}`, scope);
  if (started.status === 201) {
    options.progress?.(`  ${digest.slice(0, 19)}: mounted from ${options.mountFrom}`);
    return;
  }
  if (started.status !== 202) throw fail(client.registry, `starting the upload of ${digest}`, started);
  const location = new URL(client.location(started, `/v2/${repository}/blobs/uploads/`));
  location.searchParams.set('digest', digest);
  options.progress?.(`  ${digest.slice(0, 19)}: uploading ${data.length} bytes`);
  const put = await client.request('PUT', location.toString(), scope, { 'content-type': 'application/octet-stream' }, data);
  if (put.status !== 201) throw fail(client.registry, `uploading ${digest}`, put);
  options.progress?.(`  ${digest.slice(0, 19)}: ${data.length} bytes uploaded`);
}

/** Stores a manifest under `tag`; returns its digest. */
export async function putManifest(client: RegistryClient, repository: string, tag: string, bytes: Uint8Array, mediaType: string): Promise<string> {
  const res = await client.request('PUT', `/v2/${repository}/manifests/${tag}`, `repository:${repository}:pull,push`, { 'content-type': mediaType }, bytes);
  if (res.status !== 201) throw fail(client.registry, `storing the manifest of ${repository}:${tag}`, res);
  const digest = sha256(bytes);
  const told = res.headers['docker-content-digest'];
  if (told && told !== digest) throw new RegistryError(`${client.registry} stored the manifest under ${told}, not ${digest}`);
  return digest;
}

/** Pushes `module` as Istio's compat image to `reference`. */
export async function push(module: Uint8Array, reference: string, options: TransferOptions = {}): Promise<PushResult> {
  const ref = parseReference(reference);
  if (ref.digest) throw new RegistryError('push to a tag, not a digest: the digest comes from the content');
  const client = new RegistryClient(ref.registry, options);
  const image = compatImage(module);
  options.progress?.(`pushing ${ref.registry}/${ref.repository}:${ref.tag}`);
  await uploadBlob(client, ref.repository, image.layer, options);
  await uploadBlob(client, ref.repository, image.config, options);
  const digest = await putManifest(client, ref.repository, ref.tag!, image.manifestBytes, MEDIA.ociManifest);
  // Istio checks a WasmPlugin's sha256 against the image's manifest digest, not the module's.
  return { digest, url: `oci://${ref.registry}/${ref.repository}@${digest}`, sha256: digest.slice(7) };
}

/** A blob checked against its descriptor's digest and size. */
async function fetchBlob(client: RegistryClient, repository: string, descriptor: Descriptor, scope: string, what: string, maxBytes: number): Promise<Uint8Array> {
  if (typeof descriptor.size === 'number' && descriptor.size > maxBytes) {
    throw new RegistryError(`the ${what} ${descriptor.digest} is ${descriptor.size} bytes, more than the limit of ${maxBytes}: refusing it`);
  }
  const blob = await client.download(`/v2/${repository}/blobs/${descriptor.digest}`, scope, maxBytes, `the ${what}`);
  if (blob.status !== 200) throw fail(client.registry, `downloading the ${what} ${descriptor.digest}`, blob);
  const got = sha256(blob.body);
  if (got !== descriptor.digest) throw new RegistryError(`the ${what}'s content has digest ${got}, not ${descriptor.digest}: refusing a corrupted blob`);
  if (typeof descriptor.size === 'number' && blob.body.length !== descriptor.size) {
    throw new RegistryError(`the ${what} ${descriptor.digest} is ${blob.body.length} bytes, the manifest says ${descriptor.size}: refusing it`);
  }
  return new Uint8Array(blob.body);
}

function diffIdsOf(config: Uint8Array): string[] | undefined {
  try {
    const ids = JSON.parse(new TextDecoder().decode(config))?.rootfs?.diff_ids;
    return Array.isArray(ids) ? ids : undefined;
  } catch {
    return undefined;
  }
}

/** Pulls a module from any of the layouts Wasm runtimes use, verifying every digest. */
export async function pull(reference: string, options: TransferOptions = {}): Promise<{ module: Uint8Array; digest: string }> {
  const ref = parseReference(reference);
  const client = new RegistryClient(ref.registry, options);
  const scope = `repository:${ref.repository}:pull`;
  const target = ref.digest ?? ref.tag!;
  const res = await client.request('GET', `/v2/${ref.repository}/manifests/${target}`, scope, { accept: ACCEPT_MANIFESTS }, undefined,
    client.limits.maxManifestBytes, 'the manifest');
  if (res.status === 404) throw new RegistryError(`${ref.registry}/${ref.repository}:${target} not found (is the tag pushed?)`);
  if (res.status !== 200) throw fail(ref.registry, `reading the manifest of ${ref.repository}:${target}`, res);
  const digest = sha256(res.body);
  if (ref.digest && digest !== ref.digest) throw new RegistryError(`the manifest's digest is ${digest}, not the ${ref.digest} asked for: refusing it`);
  const told = res.headers['docker-content-digest'];
  if (told && told !== digest) throw new RegistryError(`${ref.registry} says the manifest of ${ref.repository}:${target} is ${told}, but its content is ${digest}: refusing it`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new RegistryError(`the manifest of ${ref.repository}:${target} is not JSON`);
  }
  if (!Array.isArray(manifest.layers)) throw new RegistryError(`the manifest of ${ref.repository}:${target} lists no layers (is it an index? pull a platform image)`);
  const { layer, packed } = moduleLayer(manifest);
  options.progress?.(`pulling ${layer.digest.slice(0, 19)} (${layer.size} bytes, ${layer.mediaType})`);
  const blob = await fetchBlob(client, ref.repository, layer, scope, 'layer', client.limits.maxModuleBytes);
  if (packed === 'raw') return { module: blob, digest };
  // A small layer may inflate to gigabytes: unpack at most the module limit (and a tar's framing).
  const tar = gunzipLayer(blob, client.limits.maxModuleBytes + (1 << 20));
  // The config names the uncompressed layer by diff_id: check it too when it is there.
  const diffIds = manifest.config
    ? diffIdsOf(await fetchBlob(client, ref.repository, manifest.config, scope, 'config', client.limits.maxManifestBytes)) : undefined;
  const expected = diffIds?.[manifest.layers.indexOf(layer)];
  if (expected !== undefined && sha256(tar) !== expected) {
    throw new RegistryError(`the layer unpacks to ${sha256(tar)}, but the image config's diff_id is ${expected}: refusing it`);
  }
  const module = moduleFromTar(tar);
  return { module, digest };
}
