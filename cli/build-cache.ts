// A content-hash build cache: a build is redone only when something it read changed (each file's
// SHA-256), its settings changed (the key: compiler version, flags, entry), or its outputs are
// not the ones it wrote. Checking costs a hash of the inputs, not a compiler start.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Entry {
  key: string;
  /** Absolute path: SHA-256 of what was read ("" for a file looked for and not found). */
  inputs: Record<string, string>;
  /** Absolute path: SHA-256 of what was written. */
  outputs: Record<string, string>;
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function hashOf(path: string): string | undefined {
  try {
    return sha256(readFileSync(path));
  } catch {
    return undefined;
  }
}

export class BuildCache {
  constructor(private readonly dir: string) {}

  private file(name: string): string { return join(this.dir, `${name.replace(/[^a-zA-Z0-9_.-]/g, '_')}.json`); }

  /** True when `name` was built with `key` from inputs that have not changed, and its outputs are intact. */
  fresh(name: string, key: string): boolean {
    let entry: Entry;
    try {
      entry = JSON.parse(readFileSync(this.file(name), 'utf8')) as Entry;
    } catch {
      return false;
    }
    if (entry.key !== key) return false;
    const same = (files: Record<string, string>) => Object.entries(files).every(([path, hash]) => (hashOf(path) ?? '') === hash);
    return Object.keys(entry.outputs).length > 0 && same(entry.outputs) && same(entry.inputs);
  }

  /**
   * Records a successful build. `inputs` may name files that were looked for and not found
   * (a compiler tries several places for an import): creating one later invalidates the build.
   */
  record(name: string, key: string, inputs: string[], outputs: string[]): void {
    const hashes = (files: string[]) => Object.fromEntries(files.map((f) => [f, hashOf(f) ?? '']));
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.file(name), JSON.stringify({ key, inputs: hashes(inputs), outputs: hashes(outputs.filter(existsSync)) } satisfies Entry));
  }
}
