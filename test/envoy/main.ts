// npm run test:envoy: every differential scenario in real Envoy and in host-sim, one line each,
// then `N/M scenarios agree`. Exits non-zero when a scenario differs that is not a listed difference.
import { buildTestModules } from '../global-setup.js';
import { runScenario } from './differential.js';
import { envoyMissingReason } from '../../cli/envoy/process.js';
import { loadScenarios } from './scenario.js';

const missing = envoyMissingReason();
if (missing) {
  console.error(`Envoy tier cannot run: ${missing}`);
  process.exit(1);
}
const buildErrors = await buildTestModules({ envoyTier: true });
for (const [name, message] of Object.entries(buildErrors)) console.error(`${name} did not build:\n${message}`);
if (Object.keys(buildErrors).length > 0) process.exit(1);
const only = process.argv.slice(2);
const scenarios = loadScenarios().filter((s) => only.length === 0 || only.some((o) => s.id.includes(o)));
let agree = 0;
let unexpected = 0;
for (const scenario of scenarios) {
  const verdict = await runScenario(scenario);
  const ok = verdict.differences.length === 0;
  if (ok) agree++;
  const listed = scenario.known_difference ? ` (listed difference: ${scenario.known_difference})` : '';
  console.log(`${ok ? 'agree ' : 'DIFFER'} ${scenario.id}${ok ? '' : listed}`);
  for (const line of [...verdict.differences, ...verdict.unmet.map((u) => `expectation: ${u}`)]) console.log(`         ${line}`);
  if ((!ok && !scenario.known_difference) || verdict.unmet.length > 0) unexpected++;
}
console.log(`${agree}/${scenarios.length} scenarios agree`);
process.exit(unexpected > 0 ? 1 : 0);
