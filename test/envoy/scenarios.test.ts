// The differential scenarios (test/envoy/scenarios/): each runs in real Envoy and in host-sim
// and must agree, unless it shows a difference host-sim/README.md lists by the scenario's id.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../cli/paths.js';
import { runScenario } from './differential.js';
import { envoyMissingReason } from '../../cli/envoy/process.js';
import { loadScenarios } from './scenario.js';

const listed = readFileSync(join(ROOT, 'host-sim', 'README.md'), 'utf8').split('## Where it knowingly differs')[1] ?? '';

describe.skipIf(envoyMissingReason() !== undefined)('host-sim agrees with Envoy', () => {
  for (const scenario of loadScenarios()) {
    it(scenario.id, async () => {
      const verdict = await runScenario(scenario);
      expect(verdict.unmet, `${scenario.id}: expectations unmet in Envoy`).toEqual([]);
      if (scenario.known_difference) {
        expect(listed, `host-sim/README.md lists ${scenario.id}`).toContain(scenario.id);
        expect(verdict.differences, `${scenario.id} no longer differs: remove known_difference and the README entry`).not.toEqual([]);
      } else {
        expect(verdict.differences, scenario.description).toEqual([]);
      }
    });
  }
});
