// npm run test:fleet: the fleet tests (Redis, envoyproxy/ratelimit, two Envoys), then the main
// case's tally as the last line: `fleet: <admitted>/<limit> admitted across <n> Envoys`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../cli/build.js';
import { envoyMissingReason } from '../../cli/envoy/process.js';
import { FLEET_REPORT } from './fleet.js';
import { fleetMissingReason } from './services.js';

const missing = fleetMissingReason() ?? envoyMissingReason();
if (missing) {
  console.error(`the fleet cannot run: ${missing}`);
  process.exit(1);
}
rmSync(FLEET_REPORT, { force: true });
const run = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', 'test/fleet'], { cwd: ROOT, stdio: 'inherit' });
if (!existsSync(FLEET_REPORT)) {
  console.log('fleet: the main case did not run');
  process.exit(1);
}
const { admitted, limit, envoys } = JSON.parse(readFileSync(FLEET_REPORT, 'utf8')) as { admitted: number; limit: number; envoys: number };
console.log(`fleet: ${admitted}/${limit} admitted across ${envoys} Envoys`);
process.exit(run.status === 0 && admitted === limit ? 0 : 1);
