// Builds every module the tests run, once per test run, and says whether the Envoy tier runs.
import { join } from 'node:path';
import { buildFilters, ROOT } from '../cli/build.js';
import { envoyMissingReason } from '../cli/envoy/process.js';
import { buildFixture, buildGoFixture, buildPortable } from './support/compile.js';

/** Every module the tests run; the Envoy tier's differential scenarios also run a Go SDK module. */
export async function buildTestModules(options: { envoyTier: boolean }): Promise<void> {
  if (options.envoyTier) await buildGoFixture();
  await buildFilters();
  await buildFixture(join('test', 'fixtures', 'sdk-probe', 'index.ts'), 'sdk-probe');
  await buildFixture(join('test', 'fixtures', 'sdk-probe', 'index.ts'), 'sdk-probe', 'debug');
  await buildFixture(join('test', 'fixtures', 'regex-probe', 'index.ts'), 'regex-probe');
  await buildFixture(join('test', 'fixtures', 'host-probe', 'index.ts'), 'host-probe');
  const fixtures = join(ROOT, 'test', 'fixtures', 'proxy-runtime');
  for (const name of ['hello-world', 'auth']) {
    await buildPortable(join(fixtures, `${name}.ts`), name, 'proxy-runtime');
    await buildPortable(join(fixtures, `${name}.ts`), name, 'wasm-filter-kit');
  }
}

export default async function setup(): Promise<void> {
  const missing = envoyMissingReason();
  if (missing && process.env.CI === 'true') throw new Error(`The Envoy tier must run in CI: ${missing}`);
  if (missing) console.log(`Envoy tier skipped: ${missing}`);
  await buildTestModules({ envoyTier: !missing });
}
