// One scenario, both hosts: run it in real Envoy and in host-sim, compare, and check the
// scenario's own expectations so two hosts cannot "agree" on a scenario that tests nothing.
import { compare, type Observation } from './observation.js';
import { runInEnvoy } from './run-envoy.js';
import { runInHostSim } from './run-host-sim.js';
import type { Scenario } from './scenario.js';
import { UpstreamSet } from './upstream.js';

export interface Verdict {
  scenario: Scenario;
  envoy: Observation;
  hostSim: Observation;
  /** Where the hosts differ. */
  differences: string[];
  /** Expectations of the scenario that Envoy's run did not meet. */
  unmet: string[];
}

function expectations(scenario: Scenario, observation: Observation): string[] {
  const out: string[] = [];
  if (Boolean(scenario.refused) !== Boolean(observation.loadError)) {
    return [scenario.refused ? 'the configuration was accepted, expected a refusal' : `the configuration was refused: ${observation.loadError}`];
  }
  let index = 0;
  for (const request of scenario.requests) {
    for (let i = 0; i < (request.repeat ?? 1); i++, index++) {
      const expect = request.expect;
      const got = observation.exchanges[index];
      if (!expect) continue;
      if (!got) { out.push(`request ${index + 1}: no answer`); continue; }
      if (expect.status !== undefined && got.status !== expect.status) out.push(`request ${index + 1}: status ${got.status}, expected ${expect.status}`);
      for (const [name, value] of Object.entries(expect.headers ?? {})) {
        const actual = got.headers.find(([k]) => k === name)?.[1];
        if (actual !== value) out.push(`request ${index + 1}: header ${name} is ${JSON.stringify(actual)}, expected ${JSON.stringify(value)}`);
      }
      if (expect.body_contains !== undefined && !got.body.includes(expect.body_contains)) out.push(`request ${index + 1}: body lacks ${JSON.stringify(expect.body_contains)}`);
      const routed = got.upstreams.length > 0;
      if (expect.upstream !== undefined && routed !== expect.upstream) out.push(`request ${index + 1}: ${routed ? 'reached' : 'did not reach'} an upstream`);
    }
  }
  return out;
}

/** The share of exchanges that reached `cluster`. */
const share = (o: Observation, cluster: string) => o.exchanges.filter((e) => e.upstreams.some((u) => u.cluster === cluster)).length / Math.max(1, o.exchanges.length);

export async function runScenario(scenario: Scenario): Promise<Verdict> {
  const upstreams = await UpstreamSet.start(scenario.clusters);
  let envoy: Observation;
  let hostSim: Observation;
  try {
    envoy = await runInEnvoy(scenario, upstreams);
    upstreams.take();
    upstreams.rewind();
    hostSim = await runInHostSim(scenario, upstreams);
  } finally {
    await upstreams.close();
  }
  const differences = compare(envoy, hostSim, { logs: scenario.logs ?? true, mask: scenario.mask });
  const unmet = expectations(scenario, envoy);
  if (scenario.split) {
    const { cluster, share: target, tolerance } = scenario.split;
    for (const [name, o] of [['envoy', envoy], ['host-sim', hostSim]] as const) {
      const s = share(o, cluster);
      if (Math.abs(s - target) > tolerance) unmet.push(`${name} sent ${(s * 100).toFixed(1)}% to ${cluster}, expected ${target * 100}% ± ${tolerance * 100}%`);
    }
  }
  return { scenario, envoy, hostSim, differences, unmet };
}
