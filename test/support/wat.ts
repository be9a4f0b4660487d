import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@bytecodealliance/jco';
import { ROOT } from '../../cli/build.js';

/** Assembles test/fixtures/wat/<name>.wat (or WAT text) into module bytes. */
export async function wat(nameOrText: string): Promise<Uint8Array> {
  const text = nameOrText.includes('(module') ? nameOrText : readFileSync(join(ROOT, 'test', 'fixtures', 'wat', `${nameOrText}.wat`), 'utf8');
  return parse(text);
}

/** A bump allocator for hand-written test modules: malloc hands out memory from 8192 up. */
export const MALLOC = `
  (global $heap (mut i32) (i32.const 8192))
  (func (export "malloc") (param $n i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (i32.add (local.get $n) (i32.const 8))))
    (local.get $p))`;
