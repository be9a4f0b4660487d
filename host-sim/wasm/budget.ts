// A work budget compiled into a module, so host-sim can stop code that never returns without
// a timer thread per call (Node's vm timeout costs ~90 µs a call; this costs a global decrement
// per function entry and loop iteration). The rewrite adds one exported mutable i64 global; every
// function body and every loop body starts by taking one unit from it and traps (`unreachable`)
// when none is left. Runaway Wasm can only loop or recurse, and recursion ends in a stack
// overflow, so the budget bounds all of it. The host refills the global before each call.
// Semantics are otherwise untouched: no import, function or type index moves.

export const BUDGET_EXPORT = '__hostsim_budget';

/** A module with a budget, and how to map its code offsets back to the original's. */
export interface BudgetedModule {
  bytes: Uint8Array;
  /** The original module's byte offset for an offset in `bytes` (for traps located by a source map). */
  originalOffset(offset: number): number;
}

/** An instruction or encoding the rewrite does not know: the module keeps the timer guard. */
class Unsupported extends Error {}

class Cursor {
  pos: number;
  constructor(readonly bytes: Uint8Array, start: number, readonly end: number) { this.pos = start; }

  byte(): number {
    if (this.pos >= this.end) throw new Unsupported('truncated');
    return this.bytes[this.pos++];
  }

  u32(): number {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      if (shift > 28) throw new Unsupported('LEB128 too long');
    }
  }

  leb(): void { while (this.byte() & 0x80); }

  skip(n: number): void {
    if (this.pos + n > this.end) throw new Unsupported('truncated');
    this.pos += n;
  }
}

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    let b = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) b |= 0x80;
    out.push(b);
  } while (value > 0);
  return out;
}

function sleb64(value: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const b = Number(value & 0x7fn);
    value >>= 7n;
    const done = (value === 0n && (b & 0x40) === 0) || (value === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

const VALUE_TYPES = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f]);

function blockType(c: Cursor): void {
  const b = c.bytes[c.pos];
  if (b === 0x40 || VALUE_TYPES.has(b)) c.pos++;
  else if (b === 0x63 || b === 0x64) throw new Unsupported('typed reference block type');
  else c.leb(); // a type index (s33)
}

function memarg(c: Cursor): void {
  const align = c.u32();
  if (align & 0x40) c.u32(); // multi-memory: the memory index
  c.leb();
}

/** Skips the immediates of the 0xFC (saturating truncation, bulk memory, tables) prefix. */
function miscImmediates(c: Cursor): void {
  const op = c.u32();
  if (op <= 7) return;
  if (op === 8 || op === 10 || op === 12 || op === 14) { c.u32(); c.u32(); return; }
  if (op === 9 || op === 11 || (op >= 13 && op <= 17)) { c.u32(); return; }
  throw new Unsupported(`0xfc ${op}`);
}

/** Skips the immediates of the 0xFD (SIMD) prefix. */
function simdImmediates(c: Cursor): void {
  const op = c.u32();
  if (op <= 11 || op === 92 || op === 93) memarg(c);
  else if (op === 12 || op === 13) c.skip(16);
  else if (op >= 21 && op <= 34) c.skip(1);
  else if (op >= 84 && op <= 91) { memarg(c); c.skip(1); }
}

/** Reads one instruction's opcode and immediates; true when it is `loop`. */
function instruction(c: Cursor): boolean {
  const op = c.byte();
  if (op === 0x03) { blockType(c); return true; }
  if (op === 0x02 || op === 0x04) blockType(c);
  else if (op === 0x0c || op === 0x0d || op === 0x10 || op === 0x12 || op === 0xd2 || (op >= 0x20 && op <= 0x26)) c.u32();
  else if (op === 0x0e) { const n = c.u32(); for (let i = 0; i <= n; i++) c.u32(); }
  else if (op === 0x11 || op === 0x13) { c.u32(); c.u32(); }
  else if (op === 0x1c) { const n = c.u32(); c.skip(n); }
  else if (op >= 0x28 && op <= 0x3e) memarg(c);
  else if (op === 0x3f || op === 0x40) c.u32();
  else if (op === 0x41 || op === 0x42) c.leb();
  else if (op === 0x43) c.skip(4);
  else if (op === 0x44) c.skip(8);
  else if (op === 0xd0) { const t = c.byte(); if (t !== 0x70 && t !== 0x6f) throw new Unsupported('typed ref.null'); }
  else if (op === 0xfc) miscImmediates(c);
  else if (op === 0xfd) simdImmediates(c);
  else if (!(op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0f || op === 0x1a || op === 0x1b || (op >= 0x45 && op <= 0xc4) || op === 0xd1)) {
    throw new Unsupported(`opcode 0x${op.toString(16)}`);
  }
  return false;
}

/** Writes bytes and remembers, for each run copied from the original, where it came from. */
class Output {
  readonly parts: Uint8Array[] = [];
  size = 0;
  /** [offset in the output, offset in the original], in order. */
  readonly anchors: [number, number][] = [];

  push(bytes: number[] | Uint8Array): void {
    const part = bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes);
    this.parts.push(part);
    this.size += part.length;
  }

  copy(source: Uint8Array, from: number, to: number): void {
    if (to <= from) return;
    this.anchors.push([this.size, from]);
    this.push(source.subarray(from, to));
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) { out.set(p, at); at += p.length; }
    return out;
  }
}

/** A section: where its id byte is, and where its payload starts and ends. */
interface Section { id: number; header: number; start: number; end: number }

function sections(bytes: Uint8Array): Section[] {
  const c = new Cursor(bytes, 8, bytes.length);
  const out: Section[] = [];
  while (c.pos < bytes.length) {
    const header = c.pos;
    const id = c.byte();
    const size = c.u32();
    out.push({ id, header, start: c.pos, end: c.pos + size });
    c.skip(size);
  }
  return out;
}

function importedGlobals(bytes: Uint8Array, s: Section | undefined): number {
  if (!s) return 0;
  const c = new Cursor(bytes, s.start, s.end);
  let globals = 0;
  for (let n = c.u32(); n > 0; n--) {
    c.skip(c.u32());
    c.skip(c.u32());
    const kind = c.byte();
    if (kind === 0) c.u32();
    else if (kind === 1 || kind === 2) {
      if (kind === 1) c.byte();
      const flags = c.byte();
      c.leb();
      if (flags & 1) c.leb();
    } else if (kind === 3) { c.byte(); c.byte(); globals++; }
    else if (kind === 4) { c.byte(); c.u32(); }
    else throw new Unsupported(`import kind ${kind}`);
  }
  return globals;
}

/** Appends one entry to a vector section (count, entries), or creates the section. */
function withEntry(bytes: Uint8Array, s: Section | undefined, entry: number[]): { count: number; body: number[] } {
  if (!s) return { count: 1, body: entry };
  const c = new Cursor(bytes, s.start, s.end);
  const count = c.u32();
  return { count: count + 1, body: [...bytes.subarray(c.pos, s.end), ...entry] };
}

function sectionBytes(id: number, count: number, body: number[]): number[] {
  const payload = [...uleb(count), ...body];
  return [id, ...uleb(payload.length), ...payload];
}

/** The code section with the budget check at each function entry and loop header. */
function budgetedCode(bytes: Uint8Array, s: Section, check: number[], out: Output): void {
  const c = new Cursor(bytes, s.start, s.end);
  const count = c.u32();
  const bodies = new Output();
  for (let f = 0; f < count; f++) {
    const size = c.u32();
    const end = c.pos + size;
    const start = c.pos;
    const body = new Cursor(bytes, start, end);
    for (let groups = body.u32(); groups > 0; groups--) {
      body.u32();
      const t = body.byte();
      if (!VALUE_TYPES.has(t)) throw new Unsupported(`local type 0x${t.toString(16)}`);
    }
    // The body is the locals, the check, then the code with a check after each loop header.
    const pieces: [number, number][] = [];
    let from = start;
    const cuts = [body.pos];
    while (body.pos < end) if (instruction(body)) cuts.push(body.pos);
    for (const cut of cuts) { pieces.push([from, cut]); from = cut; }
    pieces.push([from, end]);
    const bodySize = size + check.length * cuts.length;
    bodies.push(uleb(bodySize));
    pieces.forEach(([a, b], i) => {
      bodies.copy(bytes, a, b);
      if (i < cuts.length) bodies.push(check);
    });
    c.pos = end;
  }
  const payloadStart = [...uleb(count)];
  const header = [10, ...uleb(payloadStart.length + bodies.size), ...payloadStart];
  out.push(header);
  const base = out.size;
  for (const [at, original] of bodies.anchors) out.anchors.push([base + at, original]);
  for (const p of bodies.parts) out.push(p);
}

/**
 * The module with a budget of `units` (its starting value; the host refills it before each call),
 * or undefined when the module uses an instruction or encoding this rewrite does not know.
 */
export function withBudget(bytes: Uint8Array, units: bigint): BudgetedModule | undefined {
  try {
    const all = sections(bytes);
    const find = (id: number) => all.find((s) => s.id === id);
    const global = importedGlobals(bytes, find(2)) + (find(6) ? new Cursor(bytes, find(6)!.start, find(6)!.end).u32() : 0);
    const g = uleb(global);
    // global.get g; i64.const 1; i64.sub; global.set g; global.get g; i64.eqz; if unreachable end
    const check = [0x23, ...g, 0x42, 0x01, 0x7d, 0x24, ...g, 0x23, ...g, 0x50, 0x04, 0x40, 0x00, 0x0b];
    const name = new TextEncoder().encode(BUDGET_EXPORT);
    const globals = withEntry(bytes, find(6), [0x7e, 0x01, 0x42, ...sleb64(units), 0x0b]);
    const exports = withEntry(bytes, find(7), [...uleb(name.length), ...name, 0x03, ...g]);
    // Sections keep their order; the global and export sections go where the format puts them.
    const rank = (id: number) => [0, 1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11].indexOf(id);
    const out = new Output();
    out.copy(bytes, 0, 8);
    let placedGlobals = false;
    let placedExports = false;
    const place = (before: number) => {
      if (!placedGlobals && before > rank(6)) { out.push(sectionBytes(6, globals.count, globals.body)); placedGlobals = true; }
      if (!placedExports && before > rank(7)) { out.push(sectionBytes(7, exports.count, exports.body)); placedExports = true; }
    };
    for (const s of all) {
      if (s.id !== 0) place(rank(s.id));
      if (s.id === 6 || s.id === 7) {
        place(rank(s.id) + 1);
        continue;
      }
      if (s.id === 10) budgetedCode(bytes, s, check, out);
      else out.copy(bytes, s.header, s.end);
    }
    place(Infinity);
    const anchors = out.anchors;
    return {
      bytes: out.bytes(),
      originalOffset(offset: number): number {
        let lo = 0;
        let hi = anchors.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (anchors[mid][0] <= offset) lo = mid;
          else hi = mid - 1;
        }
        return anchors[lo][1] + (offset - anchors[lo][0]);
      },
    };
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}
