// Envoy's router, as far as filters can influence it: a route table matched on path and
// headers, a cluster chosen directly, from a header (cluster_header) or by weight.

export interface HeaderMatch {
  name: string;
  exact?: string;
  prefix?: string;
  suffix?: string;
  contains?: string;
  /** A regular expression the whole value must match (Envoy's safe_regex is full-match). */
  regex?: string;
  present?: boolean;
  invert?: boolean;
}

export interface Route {
  name?: string;
  match: { prefix?: string; path?: string; regex?: string; headers?: HeaderMatch[] };
  /** Exactly one of cluster, clusterHeader, weightedClusters. */
  cluster?: string;
  /** The request header that names the cluster (Envoy's cluster_header); 503 when absent or unknown. */
  clusterHeader?: string;
  weightedClusters?: { name: string; weight: number }[];
  /** The route's timeout in ms (Envoy's route.timeout; default 15 s, 0: none). */
  timeoutMs?: number;
}

export interface RouteDecision {
  route?: Route;
  /** The cluster to use, or undefined with a reason for the 404/503 Envoy would send. */
  cluster?: string;
  status?: number;
  reason?: string;
}

type HeaderList = [string, string][];

function headerValue(headers: HeaderList, name: string): string | undefined {
  return headers.find(([k]) => k === name)?.[1];
}

function matchesHeader(headers: HeaderList, m: HeaderMatch): boolean {
  const value = headerValue(headers, m.name.toLowerCase());
  let result: boolean;
  if (m.present !== undefined) result = (value !== undefined) === m.present;
  else if (value === undefined) result = false;
  else if (m.exact !== undefined) result = value === m.exact;
  else if (m.prefix !== undefined) result = value.startsWith(m.prefix);
  else if (m.suffix !== undefined) result = value.endsWith(m.suffix);
  else if (m.contains !== undefined) result = value.includes(m.contains);
  else if (m.regex !== undefined) result = new RegExp(`^(?:${m.regex})$`).test(value);
  else result = true;
  return m.invert ? !result : result;
}

function matchesRoute(route: Route, headers: HeaderList): boolean {
  const fullPath = headerValue(headers, ':path') ?? '/';
  const path = fullPath.split('?')[0];
  const { prefix, path: exact, regex, headers: headerMatches } = route.match;
  if (exact !== undefined && path !== exact) return false;
  if (prefix !== undefined && !path.startsWith(prefix)) return false;
  if (regex !== undefined && !new RegExp(`^(?:${regex})$`).test(path)) return false;
  return (headerMatches ?? []).every((m) => matchesHeader(headers, m));
}

export class Router {
  constructor(readonly routes: Route[], readonly clusters: () => Set<string>, private readonly random: () => number) {}

  /** The route and cluster Envoy's router would pick for these request headers. */
  decide(headers: HeaderList): RouteDecision {
    const route = this.routes.find((r) => matchesRoute(r, headers));
    if (!route) return { status: 404, reason: 'route_not_found' };
    let cluster: string | undefined;
    if (route.cluster) cluster = route.cluster;
    else if (route.clusterHeader) cluster = headerValue(headers, route.clusterHeader.toLowerCase());
    else if (route.weightedClusters?.length) {
      const total = route.weightedClusters.reduce((n, c) => n + c.weight, 0);
      let pick = this.random() * total;
      for (const c of route.weightedClusters) {
        if (pick < c.weight) { cluster = c.name; break; }
        pick -= c.weight;
      }
      cluster ??= route.weightedClusters[route.weightedClusters.length - 1].name;
    }
    if (!cluster || !this.clusters().has(cluster)) {
      return { route, status: 503, reason: 'cluster_not_found' };
    }
    return { route, cluster };
  }
}
