// Every configuration the kit gives Envoy, Envoy accepts: each shipped bootstrap in envoy-configs/
// and `wfk envoy-config` output for every filter README example passes `envoy --mode validate`
// (with only ports, module paths and upstream addresses substituted), then starts and serves a
// request, with the same answer host-sim gives.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FILTERS_DIR, listFilters, ROOT } from '../../cli/build.js';
import { envoyBootstrap } from '../../cli/envoy-config.js';
import { loadDeployment } from '../../cli/deployment.js';
import { clusterNames, localize, readBootstrap } from './bootstrap.js';
import { runScenario } from './differential.js';
import { envoyMissingReason, validateBootstrap } from '../../cli/envoy/process.js';
import type { Scenario } from './scenario.js';
import { closedPort } from './upstream.js';

type Json = Record<string, unknown>;

const shipped = readdirSync(join(ROOT, 'envoy-configs')).filter((f) => f.endsWith('.yaml')).sort();

const readmeExamples = listFilters().flatMap((filter) => {
  const readme = readFileSync(join(FILTERS_DIR, filter, 'README.md'), 'utf8');
  return [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m, i) => ({ filter, index: i + 1, configuration: JSON.parse(m[1]) as Json }));
});

async function acceptsAndServes(name: string, bootstrap: Json): Promise<void> {
  const problem = validateBootstrap(localize(bootstrap, { upstreams: {}, fallbackPort: await closedPort() }));
  expect(problem, `envoy --mode validate ${name}`).toBeUndefined();
  const scenario: Scenario = {
    id: name, file: name, description: `${name} serves a request`, given: bootstrap,
    clusters: Object.fromEntries(clusterNames(bootstrap).map((c) => [c, { body: `served by ${c}\n` }])),
    // A sticky key, so a weighted split (header-routing's examples) picks the same cluster in both hosts.
    requests: [{ path: '/', headers: [['x-user-id', 'config-check']] }], logs: false,
  };
  const verdict = await runScenario(scenario);
  expect(verdict.envoy.loadError, `Envoy refused ${name}`).toBeUndefined();
  const answer = verdict.envoy.exchanges[0];
  expect(answer.status, `${name}: ${answer.body}`).toBeGreaterThan(0);
  expect(answer.body, `${name} failed the wasm VM`).not.toContain('wasm_fail_stream');
  expect(verdict.differences, `${name}: host-sim answers differently`).toEqual([]);
}

describe.skipIf(envoyMissingReason() !== undefined)('Envoy accepts every configuration the kit gives it', () => {
  for (const file of shipped) {
    it(`envoy-configs/${file}`, async () => {
      await acceptsAndServes(file, readBootstrap(join(ROOT, 'envoy-configs', file)));
    });
  }
  for (const { filter, index, configuration } of readmeExamples) {
    it(`wfk envoy-config ${filter}, README example ${index}`, async () => {
      await acceptsAndServes(`${filter} example ${index}`, envoyBootstrap({ filter, configuration, deployment: await loadDeployment(filter) }));
    });
  }
});
