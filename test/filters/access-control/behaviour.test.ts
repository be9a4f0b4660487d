// filters/access-control in host-sim: Istio's evaluation order, every matcher, expressions,
// API keys, JWT claims, dry run, metrics, failing closed and a fuzz run.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Host, type HostOptions, type RequestSpec } from '../../../host-sim/index.js';
import { protoStruct } from '../../../host-sim/attributes.js';
import { filterModule } from '../../support/modules.js';
import { rejectsConfigurations } from '../../support/filters.js';
import { closeAfterTest } from '../../support/hosts.js';


function accessControl(configuration: object, options: HostOptions = {}): Host {
  const host = new Host({
    node: { id: 'ratings', metadata: { NAMESPACE: 'bookinfo', LABELS: { app: 'ratings', version: 'v1' } } },
    ...options,
    clusters: { backend: () => ({ status: 200, body: 'ok' }), ...options.clusters },
  });
  closeAfterTest(host);
  host.addPlugin({ module: filterModule('access-control'), rootId: 'access-control', configuration });
  return host;
}

async function status(host: Host, spec: RequestSpec = {}): Promise<number> {
  return (await host.request(spec)).status;
}

const allow = (rules: object[], name = 'allow') => ({ policies: [{ name, action: 'ALLOW', rules }] });
const sha = (key: string) => createHash('sha256').update(key).digest('hex');
const peer = (metadata: object) => Buffer.from(protoStruct(metadata as Record<string, unknown>)).toString('base64');
const NOW = Date.UTC(2026, 0, 1) / 1000;

describe('access-control: evaluation order', () => {
  const policies = {
    policies: [
      { name: 'block-admin', action: 'DENY', rules: [{ name: 'admin-paths', to: [{ operation: { paths: ['/admin*'] } }] }] },
      { name: 'readers', action: 'ALLOW', rules: [{ name: 'reads', to: [{ operation: { methods: ['GET', 'HEAD'] } }] }] },
      { name: 'watch', action: 'AUDIT', rules: [{ name: 'all', to: [{ operation: { paths: ['*'] } }] }] },
    ],
  };

  it('any matching DENY denies, even when an ALLOW matches too', async () => {
    const host = accessControl(policies);
    expect(await status(host, { method: 'GET', path: '/admin/users' })).toBe(403);
  });

  it('with ALLOW policies a request must match one; AUDIT only records', async () => {
    const host = accessControl(policies);
    expect(await status(host, { method: 'GET', path: '/books' })).toBe(200);
    expect(await status(host, { method: 'POST', path: '/books' })).toBe(403);
    expect(host.metrics.value('access_control.watch.all.audited')).toBe(2);
    expect(host.logs.messages('info').filter((m) => m.startsWith('audit:'))).toHaveLength(2);
  });

  it('allows everything when there are no ALLOW policies, and nothing with an ALLOW policy without rules', async () => {
    expect(await status(accessControl({ policies: [] }))).toBe(200);
    expect(await status(accessControl({ policies: [{ name: 'nothing', action: 'ALLOW' }] }))).toBe(403);
    expect(await status(accessControl(allow([{}])))).toBe(200);
  });

  it('names the deciding policy and rule in the log, never in the reply', async () => {
    const host = accessControl(policies);
    const r = await host.request({ method: 'GET', path: '/admin' });
    expect(r.body).toBe('RBAC: access denied');
    expect(r.headers.map(([, v]) => v).join(' ')).not.toMatch(/admin|block/);
    expect(host.logs.messages('info')).toContain('denied (403) by policy block-admin rule admin-paths: matched a DENY rule');
    expect(host.metrics.value('access_control.block-admin.admin-paths.denied')).toBe(1);
    expect(host.metrics.value('access_control.readers.reads.allowed')).toBe(0);
  });
});

describe('access-control: matchers', () => {
  it('paths: exact, prefix, suffix, any, and {*} / {**} templates', async () => {
    const host = accessControl(allow([{ to: [{ operation: { paths: ['/exact', '/prefix/*', '*.png', '/items/{*}/detail', '/files/{**}'] } }] }]));
    const cases: [string, number][] = [
      ['/exact', 200], ['/exact/no', 403], ['/prefix/a/b', 200], ['/logo.png?x=1', 200],
      ['/items/42/detail', 200], ['/items/4/2/detail', 403], ['/files', 200], ['/files/a/b/c', 200], ['/filesx', 403],
    ];
    for (const [path, want] of cases) expect(await status(host, { path }), path).toBe(want);
  });

  it('not_ forms exclude', async () => {
    const host = accessControl(allow([{ to: [{ operation: { paths: ['/api/*'], not_paths: ['/api/internal/*'], not_methods: ['DELETE'] } }] }]));
    expect(await status(host, { path: '/api/books' })).toBe(200);
    expect(await status(host, { path: '/api/internal/x' })).toBe(403);
    expect(await status(host, { path: '/api/books', method: 'DELETE' })).toBe(403);
  });

  it('hosts (case-insensitive, with or without a port), ports and methods', async () => {
    const host = accessControl(allow([{ to: [{ operation: { hosts: ['*.example.com', 'api.local'], ports: ['8080'], methods: ['GET'] } }] }]));
    expect(await status(host, { authority: 'WWW.Example.com' })).toBe(200);
    expect(await status(host, { authority: 'api.local:8080' })).toBe(200);
    expect(await status(host, { authority: 'other.org' })).toBe(403);
    expect(await status(host, { authority: 'api.local', destination: '10.0.0.2:9090' })).toBe(403);
    expect(await status(host, { authority: 'api.local', method: 'POST' })).toBe(403);
  });

  it('not_hosts refuses the host with and without a port; not_ports and not_methods exclude', async () => {
    const host = accessControl(allow([{ to: [{ operation: { not_hosts: ['internal.example.com'], not_ports: ['9090'], not_methods: ['DELETE'] } }] }]));
    expect(await status(host, { authority: 'www.example.com' })).toBe(200);
    expect(await status(host, { authority: 'internal.example.com' })).toBe(403);
    expect(await status(host, { authority: 'internal.example.com:80' })).toBe(403);
    expect(await status(host, { authority: 'www.example.com', destination: '10.0.0.2:9090' })).toBe(403);
    expect(await status(host, { authority: 'www.example.com', method: 'DELETE' })).toBe(403);
  });

  it('source ip blocks and their negation', async () => {
    const host = accessControl(allow([{ from: [{ source: { ip_blocks: ['10.0.0.0/8', '2001:db8::/32'], not_ip_blocks: ['10.9.0.0/16'] } }] }]));
    expect(await status(host, { source: '10.1.2.3:5000' })).toBe(200);
    expect(await status(host, { source: '[2001:db8::7]:443' })).toBe(200);
    expect(await status(host, { source: '10.9.1.1:5000' })).toBe(403);
    expect(await status(host, { source: '192.168.0.1:5000' })).toBe(403);
  });

  it('principals and namespaces from a forwarded client certificate', async () => {
    const host = accessControl({ principal_from: { header: 'x-forwarded-client-cert' },
      ...allow([{ from: [{ source: { principals: ['cluster.local/ns/bookinfo/sa/reviews'] } }, { source: { namespaces: ['trusted'] } }] }]) });
    const xfcc = (uri: string) => ({ headers: { 'x-forwarded-client-cert': `By=spiffe://cluster.local/ns/bookinfo/sa/ratings;Hash=abc;URI=${uri}` } });
    expect(await status(host, xfcc('spiffe://cluster.local/ns/bookinfo/sa/reviews'))).toBe(200);
    expect(await status(host, xfcc('spiffe://cluster.local/ns/trusted/sa/anything'))).toBe(200);
    expect(await status(host, xfcc('spiffe://cluster.local/ns/bookinfo/sa/productpage'))).toBe(403);
    expect(await status(host)).toBe(403);
  });

  it('not_principals and not_namespaces exclude identities; forged peer metadata never names a namespace', async () => {
    const host = accessControl({ principal_from: { header: 'x-forwarded-client-cert' },
      ...allow([{ from: [{ source: { principals: ['*'], not_principals: ['cluster.local/ns/bookinfo/sa/legacy'], not_namespaces: ['sandbox'] } }] }]) });
    const xfcc = (uri: string) => ({ headers: { 'x-forwarded-client-cert': `URI=${uri}` } });
    expect(await status(host, xfcc('spiffe://cluster.local/ns/bookinfo/sa/reviews'))).toBe(200);
    expect(await status(host, xfcc('spiffe://cluster.local/ns/bookinfo/sa/legacy'))).toBe(403);
    expect(await status(host, xfcc('spiffe://cluster.local/ns/sandbox/sa/reviews'))).toBe(403);

    const trusted = accessControl(allow([{ from: [{ source: { namespaces: ['trusted'] } }] }]));
    const forged = { headers: { 'x-envoy-peer-metadata': peer({ NAMESPACE: 'trusted' }) } };
    expect(await status(trusted, forged)).toBe(403);
  });
});

describe('access-control: when expressions', () => {
  const labels = 'destination.labels["app"] == "ratings" && source.labels["app"] == "reviews" && source.labels["version"] == "v3"';

  it('evaluates the Istio example with labels from node metadata and the peer metadata of an mTLS peer', async () => {
    const host = accessControl(allow([{ when: [labels] }]));
    const from = (version: string) => ({
      tls: { peerCertificate: { uriSan: 'spiffe://cluster.local/ns/bookinfo/sa/reviews' } },
      headers: { 'x-envoy-peer-metadata': peer({ NAMESPACE: 'bookinfo', SERVICE_ACCOUNT: 'reviews', LABELS: { app: 'reviews', version } }) },
    });
    expect(await status(host, from('v3'))).toBe(200);
    expect(await status(host, from('v2'))).toBe(403);
    expect(await status(host)).toBe(403);
  });

  it('supports !=, in, startsWith, endsWith, matches (a search), !, || and parentheses', async () => {
    const host = accessControl(allow([{ when: [
      '(request.method in ["GET", "HEAD"] || request.headers["x-override"] == "yes") && !request.path.startsWith("/private")',
      'request.headers["user-agent"].matches("(curl|wget)/[0-9.]+") || request.host.endsWith(".internal")',
      'request.headers["x-debug"] != "1"',
    ] }]));
    expect(await status(host, { headers: { 'user-agent': 'curl/8.1' } })).toBe(200);
    expect(await status(host, { authority: 'svc.internal' })).toBe(200);
    expect(await status(host, { method: 'POST', headers: { 'x-override': 'yes', 'user-agent': 'wget/1.2' } })).toBe(200);
    expect(await status(host, { path: '/private/x', headers: { 'user-agent': 'curl/8.1' } })).toBe(403);
    expect(await status(host, { headers: { 'user-agent': 'Mozilla/5.0' } })).toBe(403);
    // matches() searches, as in CEL: the pattern may sit anywhere in the value.
    expect(await status(host, { headers: { 'user-agent': 'probe (curl/8.1; linux)' } })).toBe(200);
    expect(await status(host, { headers: { 'user-agent': 'curl/8', 'x-debug': '1' } })).toBe(403);
  });

  it('fails closed when an attribute cannot be read: a malformed peer metadata header denies', async () => {
    const host = accessControl(allow([{ when: [labels] }]));
    const r = await host.request({ headers: { 'x-envoy-peer-metadata': '%%% not base64 %%%' } });
    expect(r.status).toBe(403);
    expect(host.logs.messages('info').join('\n')).toMatch(/evaluation failed: x-envoy-peer-metadata is not base64 of a protobuf Struct/);
  });

  it('refuses peer metadata nested 1000 deep without trapping, and keeps serving', async () => {
    const host = accessControl(allow([{ when: [labels] }]));
    let nested: Record<string, unknown> = { app: 'reviews' };
    for (let i = 0; i < 1000; i++) nested = { a: nested };
    const r = await host.request({ headers: { 'x-envoy-peer-metadata': peer({ LABELS: nested }) } });
    expect(r.status).toBe(403);
    expect(host.logs.messages('info').join('\n')).toMatch(/x-envoy-peer-metadata is not base64 of a protobuf Struct/);
    const good = { tls: { peerCertificate: { uriSan: 'spiffe://cluster.local/ns/bookinfo/sa/reviews' } },
      headers: { 'x-envoy-peer-metadata': peer({ NAMESPACE: 'bookinfo', SERVICE_ACCOUNT: 'reviews', LABELS: { app: 'reviews', version: 'v3' } }) } };
    expect(await status(host, good)).toBe(200);
  });
});

describe('access-control: API keys and consumers', () => {
  const longKey = 'k'.repeat(200);
  const config = {
    api_keys: { from: [{ header: 'x-api-key' }, { query: 'api_key' }], keys: [
      { consumer: 'partner-a', sha256: sha('secret-a') },
      { consumer: 'partner-long', sha256: sha(longKey) },
    ] },
    ...allow([{ from: [{ source: { consumers: ['partner-a', 'partner-long'] } }] }]),
  };

  it('allows a known key from a header or a query parameter, naming its consumer', async () => {
    const host = accessControl(config);
    expect(await status(host, { headers: { 'x-api-key': 'secret-a' } })).toBe(200);
    expect(await status(host, { path: '/x?foo=1&api_key=secret-a' })).toBe(200);
    expect(await status(host, { headers: { 'x-api-key': longKey } })).toBe(200);
  });

  it('answers 401 for an unknown key and for a request without one', async () => {
    const host = accessControl(config);
    const unknown = await host.request({ headers: { 'x-api-key': 'guess' } });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toBe('Jwt or API key is missing or invalid');
    expect(await status(host)).toBe(401);
  });

  it('lets expressions match the consumer', async () => {
    const host = accessControl({ api_keys: config.api_keys, ...allow([{ when: ['consumer == "partner-a" && request.method == "GET"'] }]) });
    expect(await status(host, { headers: { 'x-api-key': 'secret-a' } })).toBe(200);
    expect(await status(host, { method: 'PUT', headers: { 'x-api-key': 'secret-a' } })).toBe(403);
  });
});

describe('access-control: JWT claims', () => {
  const config = (extra: object = {}) => ({
    jwt: { payload_in_metadata: 'jwt_payload', clock_skew: '30s' },
    ...allow([
      { name: 'issuer', from: [{ source: { request_principals: ['https://issuer.example/*'] } }],
        when: ['request.auth.audiences == "ratings" && request.auth.claims["groups"] == "readers"'] },
    ]),
    ...extra,
  });
  // What jwt_authn records in dynamic metadata for a token it verified.
  const token = (claims: object) => ({ dynamicMetadata: { 'envoy.filters.http.jwt_authn': {
    jwt_payload: { iss: 'https://issuer.example', sub: 'alice', aud: ['ratings', 'reviews'], groups: ['readers'], ...claims } } } });

  it('matches request principals, audiences and list claims', async () => {
    const host = accessControl(config());
    expect(await status(host, token({ exp: NOW + 60 }))).toBe(200);
    expect(await status(host, token({ groups: ['writers'] }))).toBe(403);
    expect(await status(host, token({ iss: 'https://evil.example' }))).toBe(403);
  });

  it('honours exp with the clock skew', async () => {
    const host = accessControl(config());
    expect(await status(host, token({ exp: NOW - 20 }))).toBe(200);
    const expired = await host.request(token({ exp: NOW - 31 }));
    expect(expired.status).toBe(401);
    expect(host.logs.messages('info').join('\n')).toMatch(/the JWT expired/);
    await host.advance(100_000);
    expect(await status(host, token({ exp: NOW + 60 }))).toBe(401);
  });

  it('answers 401 for a payload that is not an object and for a missing token', async () => {
    const host = accessControl(config());
    expect(await status(host, { dynamicMetadata: { 'envoy.filters.http.jwt_authn': { jwt_payload: 'not an object' } } })).toBe(401);
    expect(await status(host)).toBe(401);
  });
});

describe('access-control: dry run and metrics', () => {
  it('a dry-run DENY records and never enforces', async () => {
    const host = accessControl({ policies: [{ name: 'trial', action: 'DENY', dry_run: true, rules: [{ name: 'posts', to: [{ operation: { methods: ['POST'] } }] }] }] });
    expect(await status(host, { method: 'POST' })).toBe(200);
    expect(host.metrics.value('access_control.trial.posts.dry_run_denied')).toBe(1);
    expect(host.logs.messages('info').join('\n')).toMatch(/dry run: policy trial rule posts would deny POST \//);
  });

  it('a dry-run ALLOW records what it would deny', async () => {
    const host = accessControl({ policies: [{ name: 'future', action: 'ALLOW', dry_run: true, rules: [{ to: [{ operation: { paths: ['/ok'] } }] }] }] });
    expect(await status(host, { path: '/nope' })).toBe(200);
    expect(await status(host, { path: '/ok' })).toBe(200);
    expect(host.metrics.value('access_control.future.none.dry_run_denied')).toBe(1);
  });

  it('uses the configured deny body and headers', async () => {
    const host = accessControl({ deny_response: { status: 404, body: 'not found', headers: { 'content-type': 'text/plain' } }, ...allow([]) });
    const r = await host.request();
    expect(r.status).toBe(404);
    expect(r.body).toBe('not found');
  });
});

describe('access-control: configuration errors', () => {
  const cases: [string, object, RegExp][] = [
    ['an unknown attribute', allow([{ when: ['request.colour == "red"'] }]), /policies\[0\]\.rules\[0\]\.when\[0\]: unknown attribute 'request\.colour' at position 0/],
    ['a syntax error', allow([{ when: ['request.method == "GET" &&'] }]), /when\[0\]: expected an attribute or a string at position 26/],
    ['a missing comparison', allow([{ when: ['request.method'] }]), /when\[0\]: expected a comparison \(==, !=, in, startsWith, endsWith, matches\) after request\.method at position 14/],
    ['a bad regex in matches', allow([{ when: ['request.path.matches("(")'] }]), /invalid regex \(missing closing \) at position 0\) at position 21/],
    ['a bad CIDR', allow([{ from: [{ source: { ip_blocks: ['10.0.0.0/40'] } }] }]), /from\[0\]\.source\.ip_blocks\[0\]: "10\.0\.0\.0\/40" is not an IP address or CIDR range/],
    ['a bad path template', allow([{ to: [{ operation: { paths: ['/a/{**}/b'] } }] }]), /to\[0\]\.operation\.paths\[0\]: "\/a\/\{\*\*\}\/b": \{\*\*\} must be the last segment/],
    ['a wildcard in the middle', allow([{ to: [{ operation: { hosts: ['a*b.com'] } }] }]), /hosts\[0\]: "a\*b\.com": '\*' may only start or end a value/],
    ['an unknown action', { policies: [{ name: 'x', action: 'MAYBE' }] }, /policies\[0\]\.action: "MAYBE" is not one of: ALLOW, DENY, AUDIT/],
    ['a key hash that is not SHA-256 hex', { api_keys: { from: [{ header: 'x-k' }], keys: [{ consumer: 'a', sha256: 'abc' }] }, policies: [] }, /api_keys\.keys\[0\]\.sha256: expected 64 lower-case hex digits/],
    ['an unknown source field', allow([{ from: [{ source: { users: ['a'] } }] }]), /from\[0\]\.source\.users: unknown field/],
  ];
  rejectsConfigurations('access-control', cases);
});

describe('access-control: fuzz', () => {
  it('answers 10,000 random requests with odd bytes, huge values and repeated headers without trapping', async () => {
    const host = accessControl({
      principal_from: { header: 'x-forwarded-client-cert' },
      api_keys: { from: [{ header: 'x-api-key' }, { query: 'k' }], keys: [{ consumer: 'c', sha256: sha('k') }] },
      jwt: { payload_in_metadata: 'jwt_payload' },
      policies: [
        { name: 'd', action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin/{**}'], hosts: ['*.evil'] } }], when: ['request.headers["x-a"].matches("a+b")'] }] },
        { name: 'a', action: 'ALLOW', rules: [
          { from: [{ source: { ip_blocks: ['10.0.0.0/8'], consumers: ['c'] } }] },
          { to: [{ operation: { methods: ['GET'], paths: ['/items/{*}'] } }], when: ['source.labels["app"] != "x" || request.auth.claims["sub"] in ["a", "b"]'] },
        ] },
      ],
    });
    let seed = 12345;
    const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
    const alphabet = ['a', 'b', '/', '%', '{', '}', '*', '\u00e9', '\u4e2d', '\u{1f600}', '\t', ' ', '"', '\\', '?', '&', '=', '.', '0'];
    const text = (max: number) => Array.from({ length: rand(max) }, () => alphabet[rand(alphabet.length)]).join('');
    const names = ['x-a', 'x-api-key', 'x-jwt-payload', 'x-envoy-peer-metadata', 'x-forwarded-client-cert', 'user-agent', 'x-a'];
    const statuses = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const headers: [string, string][] = [];
      for (let h = rand(6); h > 0; h--) headers.push([names[rand(names.length)], rand(50) === 0 ? 'z'.repeat(64 * 1024) : text(40)]);
      const r = await host.request({
        method: ['GET', 'POST', 'WEIRD', ''][rand(4)],
        path: `/${['items', 'admin', 'x'][rand(3)]}/${text(20)}${rand(3) === 0 ? `?k=${text(5)}` : ''}`,
        authority: text(15) || 'h',
        source: `${rand(2) ? '10' : '192'}.${rand(256)}.${rand(256)}.${rand(256)}:${rand(65536)}`,
        headers,
      });
      statuses.add(r.status);
    }
    expect(host.plugins[0].vms[0].failed).toBe(false);
    expect(host.logs.messages('critical')).toEqual([]);
    // 431: Envoy's codec refuses requests with more than 60 KiB of headers before any filter.
    expect([...statuses].sort()).toEqual([200, 401, 403, 431]);
  });
});
