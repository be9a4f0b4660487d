// Option parsers the commands share.
import { readFileSync } from 'node:fs';
import { describeSystemError, UsageError } from '../errors.js';

/** Collects a repeatable option's values. */
export function collect(value: string, previous: string[]): string[] { return [...previous, value]; }

export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a whole number of at least 1, got "${value}"`);
  return n;
}

/** A file the command line names; a usage error that says why it cannot be read. */
export function readInput(path: string, what = 'the file'): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${describeSystemError(e)}`);
  }
}
