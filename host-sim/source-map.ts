// Names the AssemblyScript source line of a trap in a debug build, from its source map.
import { platform } from './platform.js';

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

interface Mapping { offset: number; source: number; line: number; column: number }

export interface TrapLocator {
  /** "file.ts:line:column" for the innermost wasm frame of `error`, when known. */
  locate(error: unknown): string | undefined;
}

function decodeVlq(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of segment) {
    const digit = BASE64.indexOf(ch);
    if (digit < 0) return values;
    value += (digit & 31) << shift;
    if (digit & 32) { shift += 5; continue; }
    values.push(value & 1 ? -(value >>> 1) : value >>> 1);
    value = 0;
    shift = 0;
  }
  return values;
}

export class SourceMapLocator implements TrapLocator {
  private readonly mappings: Mapping[] = [];
  private readonly sources: string[];
  /** Maps an offset in the module as run back to the built module's (see wasm/budget.ts). */
  originalOffset: (offset: number) => number = (offset) => offset;

  constructor(map: { sources: string[]; mappings: string }) {
    this.sources = map.sources;
    // Wasm source maps have one "line": each segment's column is a byte offset in the module.
    let offset = 0; let source = 0; let line = 0; let column = 0;
    for (const segment of map.mappings.split(',')) {
      const v = decodeVlq(segment);
      if (v.length === 0) continue;
      offset += v[0];
      if (v.length >= 4) {
        source += v[1]; line += v[2]; column += v[3];
        this.mappings.push({ offset, source, line, column });
      }
    }
    this.mappings.sort((a, b) => a.offset - b.offset);
  }

  /** A locator for `wasmPath` if a `.map` file sits beside it. */
  static forModule(wasmPath: string): SourceMapLocator | undefined {
    const map = platform().readFileIfExists(`${wasmPath}.map`);
    if (!map) return undefined;
    try {
      return new SourceMapLocator(JSON.parse(new TextDecoder().decode(map)));
    } catch {
      return undefined;
    }
  }

  private mappingAt(offset: number): Mapping | undefined {
    let lo = 0; let hi = this.mappings.length - 1; let found: Mapping | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.mappings[mid].offset <= offset) { found = this.mappings[mid]; lo = mid + 1; } else hi = mid - 1;
    }
    return found;
  }

  locateOffset(offset: number): string | undefined {
    const found = this.mappingAt(offset);
    return found ? `${this.sources[found.source]}:${found.line + 1}:${found.column + 1}` : undefined;
  }

  /**
   * The innermost frame in the filter's own code: frames in AssemblyScript's standard library
   * and in the SDK's abort helper (where a failed assertion or a bounds check ends) are passed
   * over, so the line named is the one that went wrong.
   */
  locate(error: unknown): string | undefined {
    const stack = error instanceof Error ? error.stack ?? '' : '';
    // V8 prints wasm frames as "wasm://wasm/<hash>:wasm-function[<index>]:0x<offset>".
    const offsets = [...stack.matchAll(/wasm-function\[\d+\]:0x([0-9a-f]+)/g)].map((m) => this.originalOffset(parseInt(m[1], 16)));
    const own = offsets.find((offset) => {
      const found = this.mappingAt(offset);
      const source = found ? this.sources[found.source] : '';
      return found !== undefined && !source.startsWith('~lib/') && !source.endsWith('internal/abort.ts');
    });
    return this.locateOffset(own ?? offsets[0] ?? -1);
  }
}
