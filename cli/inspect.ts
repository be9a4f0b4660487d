// wfk inspect: what a module is (ABI, imports, exports, size, producers), optionally as text.
import { metadataShow, print } from '@bytecodealliance/jco';
import { detectAbi } from '../host-sim/contract.js';
import { formatType, parseModule } from '../host-sim/wasm/binary.js';

export interface Inspection {
  size: number;
  abi?: string;
  imports: string[];
  exports: string[];
  producers: Record<string, Record<string, string>>;
  wat?: string;
}

export async function inspectModule(bytes: Uint8Array, withWat: boolean): Promise<Inspection> {
  const info = parseModule(bytes);
  const producers: Record<string, Record<string, string>> = {};
  try {
    const metadata = await metadataShow(bytes) as { producers?: [string, [string, string][]][] }[];
    for (const [field, entries] of metadata[0]?.producers ?? []) producers[field] = Object.fromEntries(entries);
  } catch {
    // A module without a producers section has no metadata to show.
  }
  return {
    size: bytes.length,
    abi: detectAbi(info.exports),
    imports: info.imports.map((i) => `${i.module}.${i.name}${i.type ? ` ${formatType(i.type)}` : ` (${i.kind})`}`),
    exports: info.exports.map((e) => `${e.name}${e.type ? ` ${formatType(e.type)}` : ` (${e.kind})`}`),
    producers,
    wat: withWat ? await print(bytes) : undefined,
  };
}

export function formatInspection(path: string, i: Inspection): string {
  const lines = [`${path}: ${i.size} bytes, Proxy-Wasm ABI ${i.abi ?? '(none: Envoy would refuse it)'}`];
  for (const [field, entries] of Object.entries(i.producers)) {
    lines.push(`  ${field}: ${Object.entries(entries).map(([name, version]) => `${name} ${version}`).join(', ')}`);
  }
  lines.push(`  imports (${i.imports.length}):`, ...i.imports.map((x) => `    ${x}`));
  lines.push(`  exports (${i.exports.length}):`, ...i.exports.map((x) => `    ${x}`));
  return lines.join('\n');
}
