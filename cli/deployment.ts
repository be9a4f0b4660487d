// What it takes to deploy a filter, as the filter itself declares it in
// filters/<name>/deployment.ts: the CLI reads these facts and knows no filter by name.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StatsTag } from '../host-sim/index.js';
import { FILTERS_DIR } from './paths.js';

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
const PLAIN: FilterDeployment = { istio: { phase: 'UNSPECIFIED_PHASE' } };

/** The deployment facts of the filter in `filtersDir/<filter>`. */
export async function loadDeployment(filter: string, filtersDir = FILTERS_DIR): Promise<FilterDeployment> {
  const file = join(filtersDir, filter, 'deployment.ts');
  if (!existsSync(file)) return PLAIN;
  const loaded = (await import(pathToFileURL(file).href)) as { default?: FilterDeployment };
  if (!loaded.default?.istio) throw new Error(`${file} must export default a FilterDeployment`);
  return loaded.default;
}
