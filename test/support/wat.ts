import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@bytecodealliance/jco';
import { ROOT } from '../../cli/build.js';

/** Assembles test/fixtures/wat/<name>.wat (or WAT text) into module bytes. */
export async function wat(nameOrText: string): Promise<Uint8Array> {
  const text = nameOrText.includes('(module') ? nameOrText : readFileSync(join(ROOT, 'test', 'fixtures', 'wat', `${nameOrText}.wat`), 'utf8');
  return parse(text);
}
