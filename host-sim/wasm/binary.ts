// Reads the parts of a WebAssembly binary that decide whether Envoy accepts it: types,
// imports, exports, the start section and custom sections. The JS WebAssembly API does not
// expose function signatures, and Envoy's checks are all about signatures.

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref' | `0x${string}`;

export interface FuncType { params: ValType[]; results: ValType[] }

export type ExternKind = 'func' | 'table' | 'memory' | 'global' | 'tag';

export interface ImportEntry {
  module: string;
  name: string;
  kind: ExternKind;
  type?: FuncType;
  /** For an imported memory: its limits in pages. */
  limits?: { min: number; max?: number };
}
export interface ExportEntry { name: string; kind: ExternKind; index: number; type?: FuncType }
export interface CustomSection { name: string; size: number }

export interface ModuleInfo {
  imports: ImportEntry[];
  exports: ExportEntry[];
  /** Index of the start function, when the module has a start section. */
  start?: number;
  /** Byte offsets of each defined function's body, in order. */
  bodies: { start: number; end: number }[];
  memories: number;
  importedFunctionCount: number;
  customSections: CustomSection[];
  /** Function names from the "name" section, by index. */
  functionNames: Map<number, string>;
  /** Signature of every function (imported first), by index. */
  functionTypes: FuncType[];
}

export class WasmFormatError extends Error {}

const VALTYPES: Record<number, ValType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const KINDS: ExternKind[] = ['func', 'table', 'memory', 'global', 'tag'];

class Reader {
  pos = 0;
  constructor(readonly bytes: Uint8Array, readonly end = bytes.length) {}

  byte(): number {
    if (this.pos >= this.end) throw new WasmFormatError(`unexpected end of module at byte ${this.pos}`);
    return this.bytes[this.pos++];
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
      if (shift > 35) throw new WasmFormatError(`LEB128 integer too long at byte ${this.pos}`);
    }
  }

  skipLeb(): void { while (this.byte() & 0x80); }

  name(): string {
    const len = this.u32();
    if (this.pos + len > this.end) throw new WasmFormatError(`name runs past its section at byte ${this.pos}`);
    const s = new TextDecoder('utf-8', { fatal: false }).decode(this.bytes.subarray(this.pos, this.pos + len));
    this.pos += len;
    return s;
  }

  valtype(): ValType {
    const b = this.byte();
    return VALTYPES[b] ?? (`0x${b.toString(16)}` as ValType);
  }

  limits(): { min: number; max?: number } {
    const flags = this.byte();
    const min = this.u32();
    const max = flags & 1 ? this.u32() : undefined;
    return { min, max };
  }
}

/** Parses `bytes`; throws WasmFormatError with the byte offset when it is not a wasm module. */
export function parseModule(bytes: Uint8Array): ModuleInfo {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new WasmFormatError('not a WebAssembly module (missing the \\0asm magic number)');
  }
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new WasmFormatError('not a core WebAssembly module of version 1 (a component or another version)');
  }
  const types: FuncType[] = [];
  const info: ModuleInfo = {
    imports: [], exports: [], bodies: [], memories: 0, importedFunctionCount: 0,
    customSections: [], functionNames: new Map(), functionTypes: [],
  };
  const r = new Reader(bytes);
  r.pos = 8;
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    const end = start + size;
    if (end > bytes.length) throw new WasmFormatError(`section ${id} at byte ${start} runs past the end of the module`);
    const s = new Reader(bytes, end);
    s.pos = start;
    switch (id) {
      case 0: {
        const name = s.name();
        info.customSections.push({ name, size });
        if (name === 'name') readNames(s, info.functionNames);
        break;
      }
      case 1:
        readTypes(s, types);
        break;
      case 2:
        readImports(s, types, info);
        break;
      case 3:
        for (let n = s.u32(); n > 0; n--) info.functionTypes.push(types[s.u32()]);
        break;
      case 5:
        info.memories += s.u32();
        break;
      case 7:
        for (let n = s.u32(); n > 0; n--) {
          const name = s.name();
          const kind = KINDS[s.byte()] ?? 'tag';
          const index = s.u32();
          info.exports.push({ name, kind, index });
        }
        break;
      case 8:
        info.start = s.u32();
        break;
      case 10:
        for (let n = s.u32(); n > 0; n--) {
          const bodySize = s.u32();
          info.bodies.push({ start: s.pos, end: s.pos + bodySize });
          s.pos += bodySize;
        }
        break;
      default:
        break;
    }
    r.pos = end;
  }
  for (const e of info.exports) if (e.kind === 'func') e.type = info.functionTypes[e.index];
  return info;
}

function readTypes(s: Reader, types: FuncType[]): void {
  for (let n = s.u32(); n > 0; n--) {
    const form = s.byte();
    if (form !== 0x60) throw new WasmFormatError(`unsupported type form 0x${form.toString(16)} at byte ${s.pos - 1}`);
    const params = Array.from({ length: s.u32() }, () => s.valtype());
    const results = Array.from({ length: s.u32() }, () => s.valtype());
    types.push({ params, results });
  }
}

function readImports(s: Reader, types: FuncType[], info: ModuleInfo): void {
  for (let n = s.u32(); n > 0; n--) {
    const module = s.name();
    const name = s.name();
    const kind = KINDS[s.byte()] ?? 'tag';
    const entry: ImportEntry = { module, name, kind };
    if (kind === 'func') {
      entry.type = types[s.u32()];
      info.functionTypes.push(entry.type);
      info.importedFunctionCount++;
    } else if (kind === 'table') { s.byte(); s.limits(); }
    else if (kind === 'memory') { entry.limits = s.limits(); info.memories++; }
    else if (kind === 'global') { s.valtype(); s.byte(); }
    else { s.byte(); s.u32(); }
    info.imports.push(entry);
  }
}

function readNames(s: Reader, names: Map<number, string>): void {
  try {
    while (s.pos < s.end) {
      const sub = s.byte();
      const size = s.u32();
      const end = s.pos + size;
      if (sub === 1) {
        for (let n = s.u32(); n > 0; n--) {
          const index = s.u32();
          names.set(index, s.name());
        }
      }
      s.pos = end;
    }
  } catch {
    // A damaged name section only costs us readable names in traps.
  }
}

/**
 * The imported functions a call starting at `root` can reach through direct calls. Enough for
 * Envoy's start-section rule: a start function must not reach the host at all.
 */
export function reachableImports(bytes: Uint8Array, info: ModuleInfo, root: number): ImportEntry[] {
  const functionImports = info.imports.filter((i) => i.kind === 'func');
  const seen = new Set<number>([root]);
  const queue = [root];
  const reached: ImportEntry[] = [];
  while (queue.length > 0) {
    const index = queue.pop()!;
    if (index < info.importedFunctionCount) {
      reached.push(functionImports[index]);
      continue;
    }
    const body = info.bodies[index - info.importedFunctionCount];
    if (!body) continue;
    for (const callee of scanCalls(bytes, body.start, body.end)) {
      if (!seen.has(callee)) { seen.add(callee); queue.push(callee); }
    }
  }
  return reached;
}

function scanCalls(bytes: Uint8Array, start: number, end: number): number[] {
  const calls: number[] = [];
  const r = new Reader(bytes, end);
  r.pos = start;
  for (let groups = r.u32(); groups > 0; groups--) { r.u32(); r.valtype(); }
  // Opcode walk over the instructions a start function realistically contains.
  while (r.pos < end) {
    const op = r.byte();
    if (op === 0x10) { calls.push(r.u32()); continue; }
    if (op === 0x11) { r.u32(); r.u32(); continue; }
    if (op === 0x02 || op === 0x03 || op === 0x04) { const bt = r.byte(); if (bt !== 0x40 && !(bt in VALTYPES)) { r.pos--; r.skipLeb(); } continue; }
    if (op === 0x0c || op === 0x0d || (op >= 0x20 && op <= 0x24)) { r.u32(); continue; }
    if (op === 0x0e) { for (let n = r.u32() + 1; n > 0; n--) r.u32(); continue; }
    if (op >= 0x28 && op <= 0x3e) { r.u32(); r.u32(); continue; }
    if (op === 0x3f || op === 0x40) { r.byte(); continue; }
    if (op === 0x41 || op === 0x42) { r.skipLeb(); continue; }
    if (op === 0x43) { r.pos += 4; continue; }
    if (op === 0x44) { r.pos += 8; continue; }
    if (op === 0xd0) { r.byte(); continue; }
    if (op === 0xd2) { r.u32(); continue; }
    if (op === 0xfc) {
      const sub = r.u32();
      if (sub === 8) { r.u32(); r.byte(); } else if (sub === 9 || sub === 13 || sub === 15 || sub === 16 || sub === 17) r.u32();
      else if (sub === 10 || sub === 12 || sub === 14) { r.u32(); r.u32(); } else if (sub === 11) r.byte();
      continue;
    }
    // Every other opcode of the MVP and common extensions carries no immediate.
  }
  return calls;
}

export function formatType(t: FuncType | undefined): string {
  if (!t) return '(unknown)';
  return `(${t.params.join(', ')}) -> (${t.results.join(', ')})`;
}

export function sameType(a: FuncType | undefined, b: FuncType | undefined): boolean {
  if (!a || !b) return false;
  return a.params.length === b.params.length && a.results.length === b.results.length &&
    a.params.every((p, i) => p === b.params[i]) && a.results.every((p, i) => p === b.results[i]);
}
