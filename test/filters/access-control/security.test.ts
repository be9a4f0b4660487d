// Findings of the attack review against access-control: each test failed before its fix.
// Identities come only from what a client cannot forge; repeated headers, XFCC and deep
// expressions cannot dodge a rule or stop the VM.
import { describe, expect, it } from 'vitest';
import { Host, type RequestSpec } from '../../../host-sim/index.js';
import { protoStruct } from '../../../host-sim/attributes.js';
import { filterModule } from '../../support/modules.js';
import { rejectsConfigurations } from '../../support/filters.js';
import { closeAfterTest } from '../../support/hosts.js';


function accessControl(configuration: object): Host {
  const host = new Host({
    node: { id: 'ratings', metadata: { NAMESPACE: 'bookinfo', LABELS: { app: 'ratings', version: 'v1' } } },
    clusters: { backend: () => ({ status: 200, body: 'ok' }) },
  });
  closeAfterTest(host);
  host.addPlugin({ module: filterModule('access-control'), rootId: 'access-control', configuration });
  return host;
}

const status = async (host: Host, spec: RequestSpec = {}) => (await host.request(spec)).status;
const peerHeader = (metadata: object) => Buffer.from(protoStruct(metadata as Record<string, unknown>)).toString('base64');
const REVIEWS_V3 = { NAMESPACE: 'bookinfo', SERVICE_ACCOUNT: 'reviews', LABELS: { app: 'reviews', version: 'v3' } };
const mtls = (uriSan: string) => ({ peerCertificate: { uriSan } });

// The seeds' rule: only reviews v3 may call ratings.
const labelsRule = (extra: object = {}) => ({
  ...extra,
  policies: [{ name: 'ratings-callers', action: 'ALLOW', rules: [{ name: 'reviews-v3',
    when: ['destination.labels["app"] == "ratings" && source.labels["app"] == "reviews" && source.labels["version"] == "v3"'] }] }],
});

describe('peer metadata is trusted only from an authenticated peer', () => {
  it('ignores x-envoy-peer-metadata on a connection without a client certificate, and counts it', async () => {
    const host = accessControl(labelsRule());
    expect(await status(host, { headers: { 'x-envoy-peer-metadata': peerHeader(REVIEWS_V3) } })).toBe(403);
    expect(await status(host, { tls: {}, headers: { 'x-envoy-peer-metadata': peerHeader(REVIEWS_V3) } })).toBe(403);
    expect(host.metrics.value('access_control.peer_metadata.untrusted')).toBe(2);
    expect(await status(host)).toBe(403);
    expect(host.metrics.value('access_control.peer_metadata.absent')).toBe(1);
  });

  it('uses it over mTLS when its namespace and service account match the certificate', async () => {
    const host = accessControl(labelsRule());
    const spec = { tls: mtls('spiffe://cluster.local/ns/bookinfo/sa/reviews'), headers: { 'x-envoy-peer-metadata': peerHeader(REVIEWS_V3) } };
    expect(await status(host, spec)).toBe(200);
    expect(host.metrics.value('access_control.peer_metadata.trusted')).toBe(1);
  });

  it('ignores metadata whose namespace or service account differs from the certificate', async () => {
    const host = accessControl(labelsRule());
    const headers = { 'x-envoy-peer-metadata': peerHeader(REVIEWS_V3) };
    expect(await status(host, { tls: mtls('spiffe://cluster.local/ns/bookinfo/sa/productpage'), headers })).toBe(403);
    expect(await status(host, { tls: mtls('spiffe://cluster.local/ns/sandbox/sa/reviews'), headers })).toBe(403);
    expect(await status(host, { tls: mtls('spiffe://cluster.local/ns/bookinfo/sa/reviews/extra'), headers })).toBe(403);
    const noAccount = { 'x-envoy-peer-metadata': peerHeader({ NAMESPACE: 'bookinfo', LABELS: REVIEWS_V3.LABELS }) };
    expect(await status(host, { tls: mtls('spiffe://cluster.local/ns/bookinfo/sa/reviews'), headers: noAccount })).toBe(403);
    expect(host.metrics.value('access_control.peer_metadata.untrusted')).toBe(4);
  });

  it('denies repeated or malformed metadata as an evaluation error, even over mTLS', async () => {
    const host = accessControl(labelsRule());
    const tls = mtls('spiffe://cluster.local/ns/bookinfo/sa/reviews');
    const repeated: [string, string][] = [['x-envoy-peer-metadata', peerHeader(REVIEWS_V3)], ['x-envoy-peer-metadata', peerHeader({ NAMESPACE: 'x' })]];
    expect(await status(host, { tls, headers: repeated })).toBe(403);
    expect(await status(host, { tls, headers: { 'x-envoy-peer-metadata': '!!' } })).toBe(403);
    expect(host.metrics.value('access_control.evaluation_error.none.denied')).toBe(2);
    expect(host.metrics.value('access_control.peer_metadata.invalid')).toBe(2);
    expect(host.logs.messages('info').join('\n')).toMatch(/evaluation failed: x-envoy-peer-metadata is repeated/);
  });

  it('reads what Istio stored in filter state with trust "istio", never the header', async () => {
    const host = accessControl(labelsRule({ peer_metadata: { trust: 'istio' } }));
    const downstreamPeer = { namespace: 'bookinfo', workload: 'reviews-v3', app: 'reviews', version: 'v3', labels: { app: 'reviews', version: 'v3' } };
    expect(await status(host, { filterState: { downstream_peer: downstreamPeer } })).toBe(200);
    // Istio before 1.25 has no labels map: app and version are fields of their own.
    expect(await status(host, { filterState: { downstream_peer: { namespace: 'bookinfo', app: 'reviews', version: 'v3' } } })).toBe(200);
    expect(await status(host, { tls: mtls('spiffe://cluster.local/ns/bookinfo/sa/reviews'), headers: { 'x-envoy-peer-metadata': peerHeader(REVIEWS_V3) } })).toBe(403);
  });

  it('trusts the header from anyone only when told to, with "unsafe_any_client"', async () => {
    const host = accessControl(labelsRule({ peer_metadata: { trust: 'unsafe_any_client' } }));
    expect(await status(host, { headers: { 'x-envoy-peer-metadata': peerHeader(REVIEWS_V3) } })).toBe(200);
  });

  it('the robust form of the seeds\' rule names the principal, which comes from the certificate', async () => {
    const host = accessControl({
      principal_from: { property: ['connection', 'uri_san_peer_certificate'] },
      policies: [{ name: 'ratings-callers', action: 'ALLOW', rules: [{ name: 'reviews-v3',
        from: [{ source: { principals: ['cluster.local/ns/bookinfo/sa/reviews'] } }],
        when: ['source.labels["version"] == "v3"'] }] }],
    });
    const headers = { 'x-envoy-peer-metadata': peerHeader(REVIEWS_V3) };
    expect(await status(host, { tls: mtls('spiffe://cluster.local/ns/bookinfo/sa/reviews'), headers })).toBe(200);
    expect(await status(host, { tls: mtls('spiffe://cluster.local/ns/bookinfo/sa/productpage'), headers })).toBe(403);
    expect(await status(host, { headers })).toBe(403);
  });
});

describe('JWT claims come from jwt_authn, not from a header the client sent', () => {
  const policy = { policies: [{ name: 'staff', action: 'ALLOW', rules: [{ from: [{ source: { request_principals: ['https://login.example.com/*'] } }] }] }] };
  const forged = { headers: { 'x-jwt-payload': Buffer.from(JSON.stringify({ iss: 'https://login.example.com', sub: 'mallory' })).toString('base64url') } };

  it('ignores a client-sent payload header and reads the verified payload from dynamic metadata', async () => {
    const host = accessControl({ jwt: { payload_in_metadata: 'jwt_payload' }, ...policy });
    expect(await status(host, forged)).toBe(401);
    const verified = { dynamicMetadata: { 'envoy.filters.http.jwt_authn': { jwt_payload: { iss: 'https://login.example.com', sub: 'alice' } } } };
    expect(await status(host, verified)).toBe(200);
  });

  it('reads Istio\'s layout, where the key is the issuer, from a list of keys', async () => {
    const host = accessControl({ jwt: { payload_in_metadata: ['jwt_payload', 'https://login.example.com'] }, ...policy });
    const istio = { dynamicMetadata: { 'envoy.filters.http.jwt_authn': { 'https://login.example.com': { iss: 'https://login.example.com', sub: 'alice' } } } };
    expect(await status(host, istio)).toBe(200);
  });

  it('trusts the payload header only with unsafe_trust_payload_header', async () => {
    const host = accessControl({ jwt: { payload_header: 'x-jwt-payload', unsafe_trust_payload_header: true }, ...policy });
    expect(await status(host, forged)).toBe(200);
  });

  rejectsConfigurations('access-control', [
    ['a payload header without the unsafe opt-in', { jwt: { payload_header: 'x-jwt-payload' }, policies: [] },
      /jwt\.payload_header: a client can send this header itself .*payload_in_metadata/],
    ['jwt without a source of claims', { jwt: {}, policies: [] }, /jwt: expected payload_in_metadata/],
    ['payload_in_metadata that is not a key', { jwt: { payload_in_metadata: [1] }, policies: [] }, /jwt\.payload_in_metadata: expected the key/],
    ['an unknown peer_metadata trust', { peer_metadata: { trust: 'everyone' }, policies: [] }, /peer_metadata\.trust: "everyone" is not one of: mtls, istio, unsafe_any_client/],
    ['principal_from.property with a number', { principal_from: { property: ['connection', 7] }, policies: [] }, /principal_from\.property\[1\]: expected a non-empty string segment/],
    ['principal_from with both header and property', { principal_from: { header: 'x', property: ['a'] }, policies: [] }, /principal_from: expected/],
  ]);
});

describe('repeated headers are matched as Envoy RBAC sees them (joined with ",")', () => {
  it('a DENY on a header value cannot be dodged by sending the header twice', async () => {
    const host = accessControl({ policies: [{ name: 'no-admin-role', action: 'DENY', rules: [{ when: ['request.headers["x-role"].matches("(^|,)admin(,|$)")'] }] }] });
    expect(await status(host, { headers: { 'x-role': 'admin' } })).toBe(403);
    expect(await status(host, { headers: [['x-role', 'guest'], ['x-role', 'admin']] })).toBe(403);
    expect(await status(host, { headers: [['x-role', 'guest'], ['x-role', 'reader']] })).toBe(200);
  });
});

describe('x-forwarded-client-cert is parsed, not searched', () => {
  const config = { principal_from: { header: 'x-forwarded-client-cert' },
    policies: [{ name: 'admins', action: 'ALLOW', rules: [{ from: [{ source: { principals: ['cluster.local/ns/admin/sa/root'] } }] }] }] };

  it('a Subject containing "URI=" is not an identity', async () => {
    const host = accessControl(config);
    const subject = 'Hash=ab;Subject="CN=x,URI=spiffe://cluster.local/ns/admin/sa/root";URI=spiffe://cluster.local/ns/app/sa/web';
    expect(await status(host, { headers: { 'x-forwarded-client-cert': subject } })).toBe(403);
    expect(await status(host, { headers: { 'x-forwarded-client-cert': 'Subject="URI=spiffe://cluster.local/ns/admin/sa/root"' } })).toBe(403);
    expect(await status(host, { headers: { 'x-forwarded-client-cert': 'Hash=ab;URI=spiffe://cluster.local/ns/admin/sa/root' } })).toBe(200);
  });

  it('takes the element the nearest proxy appended, and fails closed on a malformed value', async () => {
    const host = accessControl(config);
    const chain = 'URI=spiffe://cluster.local/ns/admin/sa/root,By=spiffe://x;URI=spiffe://cluster.local/ns/app/sa/web';
    expect(await status(host, { headers: { 'x-forwarded-client-cert': chain } })).toBe(403);
    expect(await status(host, { headers: { 'x-forwarded-client-cert': 'URI="spiffe://cluster.local/ns/admin/sa/root' } })).toBe(403);
    expect(host.logs.messages('info').join('\n')).toMatch(/x-forwarded-client-cert is not a valid x-forwarded-client-cert value/);
  });
});

describe('expressions are bounded at configure', () => {
  rejectsConfigurations('access-control', [
    ['1,300 nested "!"', { policies: [{ name: 'p', rules: [{ when: [`${'!'.repeat(1300)}request.method == "GET"`] }] }] },
      /when\[0\]: nested deeper than 32 levels \(of '!' and parentheses\) at position 32/],
    ['1,300 nested parentheses', { policies: [{ name: 'p', rules: [{ when: [`${'('.repeat(1300)}request.method == "GET"${')'.repeat(1300)}`] }] }] },
      /when\[0\]: nested deeper than 32 levels .* at position 32/],
    ['1,300 terms', { policies: [{ name: 'p', rules: [{ when: [Array.from({ length: 1300 }, () => 'request.method == "GET"').join(' && ')] }] }] },
      /when\[0\]: more than 256 comparisons in one expression at position 6912/],
  ]);

  it('accepts expressions within the bounds and evaluates them', async () => {
    const when = `${'!'.repeat(30)}request.method == "GET" && ${Array.from({ length: 200 }, () => 'request.path != "/x"').join(' && ')}`;
    const host = accessControl({ policies: [{ name: 'p', rules: [{ when: [when] }] }] });
    expect(await status(host)).toBe(200);
    expect(await status(host, { method: 'POST' })).toBe(403);
  });
});

describe('paths are matched as Envoy normalizes them', () => {
  const noAdmin = (extra: object = {}) => ({ ...extra, policies: [{ name: 'no-admin', action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin/{**}', '/admin'] } }] }] }] });
  const dodges = ['/./admin', '/foo/../admin', '/%61dmin/x', '/admin\\x', '//admin/x', '/a/b/../../admin/x', '/%2e%2e/admin', '/admin/..;/admin/x',
    '/admin%2Fx', '/x/..%2Fadmin', '/ad%6Din/./users/', 'http://example.com/admin/x'];

  it.each(dodges)('DENY /admin/{**} holds for %s', async (path) => {
    expect(await status(accessControl(noAdmin()), { path })).toBe(403);
  });

  it('a path that cannot be normalized is denied, as Envoy refuses it', async () => {
    const host = accessControl(noAdmin());
    expect(await status(host, { path: '/admin%00/x' })).toBe(403);
    expect(host.logs.messages('info').join('\n')).toMatch(/evaluation failed: the path has an encoded NUL/);
    // Envoy's connection manager refuses a fragment before any filter, whatever its settings.
    expect(await status(host, { path: '/public#frag' })).toBe(400);
    expect(await status(host, { path: '/public/../docs' })).toBe(200);
  });

  it('escaped slashes follow path_normalization.escaped_slashes', async () => {
    const keep = accessControl(noAdmin({ path_normalization: { escaped_slashes: 'keep' } }));
    expect(await status(keep, { path: '/admin%2Fx' })).toBe(200);
    const reject = accessControl(noAdmin({ path_normalization: { escaped_slashes: 'reject' } }));
    expect(await status(reject, { path: '/public%2Fx' })).toBe(403);
  });
});
