// How access-control is deployed (read by wfk envoy-config): it authorizes, so Istio runs it in
// AUTHZ before quotas; a `jwt` configuration needs Envoy's jwt_authn in front of it (plain
// Envoy) or a RequestAuthentication (Istio) to verify the tokens it reads.
import { cluster } from '../../cli/envoy/resources.js';
import { DeploymentError, type Configuration, type FilterDeployment, type IstioPlacement, type Json } from '../../cli/deployment.js';

interface JwtSettings { payload_in_metadata?: string | string[]; payload_header?: string }

function jwtSettings(configuration: Configuration): JwtSettings | undefined {
  const jwt = configuration.jwt;
  return jwt && typeof jwt === 'object' ? jwt as JwtSettings : undefined;
}

/** The issuers the policies name in request principals (`<issuer>/<subject>`), wildcards aside. */
function policyIssuers(configuration: Configuration): string[] {
  const issuers = new Set<string>();
  const visit = (value: unknown, key?: string): void => {
    if (Array.isArray(value)) {
      if (key === 'request_principals' || key === 'not_request_principals') {
        for (const principal of value) {
          if (typeof principal !== 'string') continue;
          const slash = principal.lastIndexOf('/');
          if (slash > 0 && !principal.slice(0, slash).includes('*')) issuers.add(principal.slice(0, slash));
        }
      } else value.forEach((item) => visit(item));
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) visit(v, k);
    }
  };
  visit(configuration.policies);
  return [...issuers];
}

/**
 * jwt_authn verifies tokens and records each payload in its dynamic metadata under
 * `payload_in_metadata`; requests without a token pass on, for the policies to decide. The
 * issuer comes from the policies (an https one) when they name one; edit it and the JWKS address to yours.
 */
function jwtAuthn(configuration: Configuration): { filters: Json[]; clusters: Json[] } {
  const jwt = jwtSettings(configuration);
  if (!jwt) return { filters: [], clusters: [] };
  const issuer = policyIssuers(configuration).find((i) => /^https:\/\/[^/]+$/.test(i)) ?? 'https://issuer.example.com';
  const host = new URL(issuer).hostname;
  const filter = {
    name: 'envoy.filters.http.jwt_authn',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
      providers: { issuer: {
        issuer,
        payload_in_metadata: [jwt.payload_in_metadata ?? 'jwt_payload'].flat()[0],
        remote_jwks: { http_uri: { uri: `${issuer}/.well-known/jwks.json`, cluster: 'jwks', timeout: '2s' }, cache_duration: '300s' },
      } },
      rules: [{ match: { prefix: '/' }, requires: { requires_any: { requirements: [{ provider_name: 'issuer' }, { allow_missing: {} }] } } }],
    },
  };
  const jwks = {
    ...cluster('jwks', host, 443),
    transport_socket: { name: 'envoy.transport_sockets.tls', typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', sni: host } },
  };
  return { filters: [filter], clusters: [jwks] };
}

/**
 * Istio's jwt_authn stores each verified payload in dynamic metadata under its issuer, so the
 * filter must read those keys; the RequestAuthentication is derived from the policies' issuers,
 * or refused when it cannot be.
 */
function requestAuthentication(configuration: Configuration, placement: IstioPlacement): Json[] {
  const jwt = jwtSettings(configuration);
  if (!jwt) return [];
  if (jwt.payload_header) {
    throw new DeploymentError('jwt.payload_header: in Istio read the verified payload from dynamic metadata instead: set "payload_in_metadata" to the issuer(s)');
  }
  const issuers = policyIssuers(configuration);
  if (issuers.length === 0) {
    throw new DeploymentError('jwt: no policy names an issuer in request_principals ("<issuer>/<subject>"), so the RequestAuthentication cannot be derived; name the issuer or write the RequestAuthentication yourself');
  }
  const keys = [jwt.payload_in_metadata ?? []].flat();
  if (issuers.some((i) => !keys.includes(i))) {
    throw new DeploymentError(`jwt.payload_in_metadata: Istio stores a verified payload under its issuer; set it to ${JSON.stringify(issuers.length === 1 ? issuers[0] : issuers)}`);
  }
  return [{
    apiVersion: 'security.istio.io/v1',
    kind: 'RequestAuthentication',
    metadata: { name: placement.name, namespace: placement.namespace },
    spec: {
      ...(placement.selector ? { selector: { matchLabels: placement.selector } } : {}),
      // Edit jwksUri if the issuer does not publish its keys there.
      jwtRules: issuers.map((issuer) => ({ issuer, jwksUri: `${issuer.replace(/\/$/, '')}/.well-known/jwks.json` })),
    },
  }];
}

const deployment: FilterDeployment = {
  istio: { phase: 'AUTHZ', priority: 20 },
  filtersBefore: jwtAuthn,
  istioCompanions: requestAuthentication,
};
export default deployment;
