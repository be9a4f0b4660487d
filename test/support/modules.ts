// The modules the test setup built. A module that did not build throws its compiler message
// here, so only the tests that load it fail.
import { join } from 'node:path';
import { inject } from 'vitest';
import { DIST_DIR } from '../../cli/build.js';
import { BUILD_DIR } from './compile.js';

function built(name: string, path: string): string {
  const error = inject('buildErrors')?.[name];
  if (error) throw new Error(`${name} did not build:\n${error}`);
  return path;
}

/** A filter built into dist/ by the test setup. */
export const filterModule = (name: string) => built(name, join(DIST_DIR, `${name}.wasm`));
/** A fixture built into test/.build/ by the test setup (`name` as sdk-probe, or sdk-probe.debug). */
export const fixtureModule = (name: string) => built(name, join(BUILD_DIR, `${name}.wasm`));
/** A filter written for @solo-io/proxy-runtime, built with `sdk`. */
export const portableModule = (name: string, sdk: 'proxy-runtime' | 'wasm-filter-kit') => built(`${name}.${sdk}`, join(BUILD_DIR, `${name}.${sdk}.wasm`));
