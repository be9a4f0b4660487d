// Option parsers the commands share.
import { UsageError } from '../errors.js';

/** Collects a repeatable option's values. */
export function collect(value: string, previous: string[]): string[] { return [...previous, value]; }

export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a whole number of at least 1, got "${value}"`);
  return n;
}
