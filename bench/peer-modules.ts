// The peer spec filter (bench/peers/) built with each SDK: what the SDK benchmark, bench:envoy
// and test/peers.test.ts run. Ours and @solo-io/proxy-runtime build the very same source.
import { join } from 'node:path';
import { ROOT } from '../cli/paths.js';
import { buildGoModule, buildPortable, buildRustModule } from '../test/support/compile.js';

export interface PeerModule {
  /** Short name, as bench:envoy's rows say it. */
  sdk: string;
  /** Name with version, as the SDK table says it. */
  label: string;
  /** The x-peer value the filter answers with. */
  marker: string;
  /** The root_id Envoy passes (the Rust and Go SDKs do not look at it). */
  rootId: string;
  build(): Promise<string>;
}

const source = join(ROOT, 'bench', 'peers', 'assemblyscript', 'peer.ts');

export const PEER_MODULES: PeerModule[] = [
  { sdk: 'wasm-filter-kit', label: 'wasm-filter-kit (AssemblyScript 0.28)', marker: 'assemblyscript', rootId: 'peer',
    build: () => buildPortable(source, 'peer', 'wasm-filter-kit') },
  { sdk: 'Rust SDK', label: 'Rust SDK (proxy-wasm 0.2.2)', marker: 'rust', rootId: '',
    build: () => buildRustModule(join(ROOT, 'bench', 'peers', 'rust'), 'peer.rust') },
  { sdk: 'Go SDK', label: 'Go SDK (proxy-wasm-go-sdk, wasip1)', marker: 'go', rootId: '',
    build: () => buildGoModule(join(ROOT, 'bench', 'peers', 'go'), 'peer.go') },
  { sdk: '@solo-io/proxy-runtime', label: '@solo-io/proxy-runtime 0.1.8 (AS 0.14)', marker: 'assemblyscript', rootId: 'peer',
    build: () => buildPortable(source, 'peer', 'proxy-runtime') },
];

/** Every peer, built (each build is cached by content). */
export async function buildPeerModules(): Promise<(PeerModule & { module: string })[]> {
  const out: (PeerModule & { module: string })[] = [];
  for (const peer of PEER_MODULES) out.push({ ...peer, module: await peer.build() });
  return out;
}
