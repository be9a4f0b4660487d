// A filter and a configuration file, checked the way Envoy would check them: the configuration
// is loaded into the built filter in host-sim, so no command prints a deployment for settings
// the filter itself refuses.
import { readFileSync } from 'node:fs';
import { loadDeployment, type Configuration, type FilterDeployment } from './deployment.js';
import { describeSystemError, UsageError } from './errors.js';
import { listFilters, moduleFor, TargetError } from './paths.js';

export interface CheckedFilter {
  filter: string;
  configuration: Configuration;
  deployment: FilterDeployment;
  /** The built module the configuration was checked with. */
  modulePath: string;
}

function readConfiguration(file: string): Configuration {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the configuration ${file}: ${describeSystemError(e)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`cannot read the configuration ${file}: it is not JSON (${(e as Error).message})`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`${file}: a filter configuration is a JSON object`);
  return parsed as Configuration;
}

/** `filter` (a filter under filters/) with the configuration in `file`, refused as Envoy would refuse it. */
export async function checkedFilter(filter: string, file: string): Promise<CheckedFilter> {
  if (!listFilters().includes(filter)) throw new UsageError(`unknown filter "${filter}"; filters are: ${listFilters().join(', ')}`);
  const configuration = readConfiguration(file);
  let modulePath: string;
  try { modulePath = moduleFor(filter).path; } catch (e) { throw e instanceof TargetError ? new UsageError(e.message) : e; }
  const { Host, PluginLoadError } = await import('../host-sim/index.js');
  const host = new Host({ clusters: {} });
  try {
    host.addPlugin({ module: readFileSync(modulePath), rootId: filter, configuration });
  } catch (e) {
    if (e instanceof PluginLoadError) throw new UsageError(`${file}: the ${filter} filter refuses this configuration: ${e.message}`);
    throw e;
  } finally {
    host.close();
  }
  return { filter, configuration, modulePath, deployment: await loadDeployment(filter) };
}
