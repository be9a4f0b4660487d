import { join } from 'node:path';
import { DIST_DIR } from '../../cli/build.js';
import { BUILD_DIR } from './compile.js';

/** A filter built into dist/ by the test setup. */
export const filterModule = (name: string) => join(DIST_DIR, `${name}.wasm`);
/** A fixture built into test/.build/ by the test setup. */
export const fixtureModule = (name: string) => join(BUILD_DIR, `${name}.wasm`);
