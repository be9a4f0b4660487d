// `wfk demo`, the README's first command: builds every filter, then tells the story in
// filters/demo.ts in host-sim, or (--envoy) through real Envoy with the same chain.
import { BuildError, buildKitFilters } from './build.js';
import { chainFacts, envoyProxy, hostSimProxy } from './demo-proxies.js';
import { loadDeployment } from './deployment.js';
import { KIT } from './paths.js';
import { setup, tell } from '../filters/demo.js';

export async function runDemo(say: (line: string) => void, options: { envoy?: boolean } = {}): Promise<void> {
  say('Building the filters ...');
  const { failed } = await buildKitFilters(setup.chain.map(({ filter }) => filter), { debug: false, progress: (line) => say(`  ${line}`) });
  if (failed.length > 0) throw new BuildError(failed.map(({ error }) => error.message).join('\n\n'));
  const facts = chainFacts(setup, await Promise.all(setup.chain.map(({ filter }) => loadDeployment(filter, KIT))));
  const proxy = options.envoy ? await envoyProxy(setup, facts) : hostSimProxy(setup, facts);
  try {
    await tell(proxy, say, options.envoy ? 'real Envoy' : 'host-sim');
  } finally {
    await proxy.close();
  }
}
