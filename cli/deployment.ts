// What it takes to deploy a filter, as the filter itself declares it in
// filters/<name>/deployment.ts: the CLI reads these facts and knows no filter by name.
import { existsSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StatsTag } from '../host-sim/index.js';
import { KIT, PROJECT, type Project } from './paths.js';

export type Json = Record<string, unknown>;
export type Configuration = Record<string, unknown>;

/** Where Istio runs an extension in its chain. */
export type IstioPhase = 'AUTHN' | 'AUTHZ' | 'STATS' | 'UNSPECIFIED_PHASE';

/** A cluster a configuration names: a name that resolves to the service (edit it to yours). */
export interface ClusterNeed { name: string; port: number; http2?: boolean }

/** Where the generated manifests go, for companions that sit beside the WasmPlugin. */
export interface IstioPlacement { name: string; namespace: string; selector?: Record<string, string> }

export interface FilterDeployment {
  /** Istio's WasmPlugin phase; within a phase a higher priority runs first. */
  istio: { phase: IstioPhase; priority?: number };
  /** Clusters the configuration names besides the route's upstream. */
  clusters?(configuration: Configuration): ClusterNeed[];
  /**
   * The request header the filter writes an upstream cluster's name into, if it routes: the
   * route reads it (cluster_header) and clients may not send it.
   */
  clusterHeader?(configuration: Configuration): string | undefined;
  /** HTTP filters that must run before it in a plain Envoy, with the clusters they call. */
  filtersBefore?(configuration: Configuration): { filters: Json[]; clusters: Json[] };
  /** Istio manifests it relies on besides its WasmPlugin; throws DeploymentError when none can be derived. */
  istioCompanions?(configuration: Configuration, placement: IstioPlacement): Json[];
  /** The stats_tags that turn its metric names into Prometheus labels. */
  statsTags?(configuration: Configuration): StatsTag[];
  /** The configuration of the service its configuration calls, if any (e.g. a rate limit service). */
  serviceConfig?(configuration: Configuration): { service: string; text: string } | undefined;
}

/** A configuration that cannot be deployed as asked; the message names the field and what to change. */
export class DeploymentError extends Error {}

/** A filter without a deployment file: an ordinary extension with no companions. */
export const PLAIN_DEPLOYMENT: FilterDeployment = { istio: { phase: 'UNSPECIFIED_PHASE' } };

/**
 * Where a filter's deployment facts are: the kit's own filters beside this module (as sources,
 * or compiled in lib/), a project's in filters/<name>/deployment.js (or .ts, loaded with tsx).
 */
function deploymentFile(filter: string, project: Project): string | undefined {
  const here = fileURLToPath(import.meta.url);
  const candidates = project.root === KIT.root
    ? [join(dirname(here), '..', 'filters', filter, `deployment${extname(here)}`)]
    : ['js', 'mjs', 'ts'].map((ext) => join(project.filtersDir, filter, `deployment.${ext}`));
  return candidates.find((file) => existsSync(file));
}

/** The deployment facts of `filter` in `project` (a filter without them deploys as a plain extension). */
export async function loadDeployment(filter: string, project: Project = PROJECT): Promise<FilterDeployment> {
  const file = deploymentFile(filter, project);
  if (!file) return PLAIN_DEPLOYMENT;
  let loaded: { default?: FilterDeployment };
  if (file.endsWith('.ts') && !import.meta.url.endsWith('.ts')) {
    const { tsImport } = await import('tsx/esm/api');
    loaded = await tsImport(pathToFileURL(file).href, import.meta.url) as { default?: FilterDeployment };
  } else {
    loaded = await import(pathToFileURL(file).href) as { default?: FilterDeployment };
  }
  if (!loaded.default?.istio) throw new Error(`${file} must export default a FilterDeployment (with at least istio.phase)`);
  return loaded.default;
}
