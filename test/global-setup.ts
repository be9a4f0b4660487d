// Builds every module the tests run, once per test run and only what changed (builds are cached
// by content), and says whether the Envoy tier runs. A module that does not compile fails only
// the tests that load it, with the compiler's message (see support/modules.ts).
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildKitFilters, ROOT } from '../cli/build.js';
import { envoyMissingReason } from '../cli/envoy/process.js';
import { buildFixture, buildGoFixture, buildPortable } from './support/compile.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Modules that did not build, by name (a filter, or a fixture's output name): the message. */
    buildErrors: Record<string, string>;
  }
}

/** Every module the tests run; the Envoy tier's differential scenarios also run a Go SDK module. Returns what failed. */
export async function buildTestModules(options: { envoyTier: boolean }): Promise<Record<string, string>> {
  const errors: Record<string, string> = {};
  const attempt = async (name: string, build: () => Promise<unknown>) => {
    try { await build(); } catch (e) { errors[name] = (e as Error).message; }
  };
  if (options.envoyTier) await attempt('go-filter', buildGoFixture);
  const filters = await buildKitFilters([]);
  for (const { name, error } of filters.failed) errors[name] = error.message;
  const probe = (name: string) => join('test', 'fixtures', name, 'index.ts');
  await attempt('sdk-probe', () => buildFixture(probe('sdk-probe'), 'sdk-probe'));
  await attempt('sdk-probe.debug', () => buildFixture(probe('sdk-probe'), 'sdk-probe', 'debug'));
  await attempt('regex-probe', () => buildFixture(probe('regex-probe'), 'regex-probe'));
  await attempt('host-probe', () => buildFixture(probe('host-probe'), 'host-probe'));
  const fixtures = join(ROOT, 'test', 'fixtures', 'proxy-runtime');
  for (const name of ['hello-world', 'auth']) {
    await attempt(`${name}.proxy-runtime`, () => buildPortable(join(fixtures, `${name}.ts`), name, 'proxy-runtime'));
    await attempt(`${name}.wasm-filter-kit`, () => buildPortable(join(fixtures, `${name}.ts`), name, 'wasm-filter-kit'));
  }
  return errors;
}

export default async function setup(project: TestProject): Promise<void> {
  const missing = envoyMissingReason();
  if (missing && process.env.CI === 'true') throw new Error(`The Envoy tier must run in CI: ${missing}`);
  if (missing) console.log(`Envoy tier skipped: ${missing}`);
  const errors = await buildTestModules({ envoyTier: !missing });
  for (const [name, message] of Object.entries(errors)) console.error(`${name} did not build; its tests will fail:\n${message}`);
  project.provide('buildErrors', errors);
}
