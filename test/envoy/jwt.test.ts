// JWT claims come only from what Envoy's jwt_authn verified: the shipped access-control config in
// real Envoy, with its JWKS replaced by a key made here. A client-sent payload header is ignored.
import { createSign, generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../cli/paths.js';
import { send } from '../../cli/envoy/client.js';
import { EnvoyProcess, envoyMissingReason } from '../../cli/envoy/process.js';
import { localize, readBootstrap } from './bootstrap.js';
import { UpstreamSet } from './upstream.js';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function token(claims: Record<string, unknown>): string {
  const signed = `${b64({ alg: 'RS256', kid: 'test', typ: 'JWT' })}.${b64(claims)}`;
  return `${signed}.${createSign('RSA-SHA256').update(signed).sign(privateKey).toString('base64url')}`;
}

describe.skipIf(envoyMissingReason() !== undefined)('access-control reads JWT claims jwt_authn verified (real Envoy)', () => {
  let envoy: EnvoyProcess;
  let upstreams: UpstreamSet;

  beforeAll(async () => {
    upstreams = await UpstreamSet.start({ backend: { body: 'ok\n' } });
    const bootstrap = localize(readBootstrap(join(ROOT, 'envoy-configs', 'access-control.yaml')), { upstreams: upstreams.ports(), fallbackPort: upstreams.closed });
    const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    const jwt = hcm.http_filters.find((f: { name: string }) => f.name === 'envoy.filters.http.jwt_authn');
    const provider = jwt.typed_config.providers.login;
    delete provider.remote_jwks;
    provider.local_jwks = { inline_string: JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'test', alg: 'RS256', use: 'sig' }] }) };
    envoy = await EnvoyProcess.start(bootstrap);
  });
  afterAll(async () => { await envoy?.stop(); await upstreams?.close(); });

  const request = async (headers: [string, string][]) => (await send(envoy.port, {
    method: 'GET', path: '/catalog/items', authority: 'example.com', headers: headers.map(([k, v]) => [k, Buffer.from(v)]),
  })).status;
  const staff = { iss: 'https://login.example.com', sub: 'alice', aud: 'catalog', exp: Math.floor(Date.now() / 1000) + 600 };

  it('allows a token jwt_authn verified, by its request principal', async () => {
    expect(await request([['authorization', `Bearer ${token(staff)}`]])).toBe(200);
  });

  it('answers 401 to a client that sends its own x-jwt-payload instead of a token', async () => {
    expect(await request([['x-jwt-payload', b64(staff)]])).toBe(401);
    await envoy.idle();
    expect(envoy.logLines().map((l) => l.message).join('\n')).toMatch(/access-control: denied \(401\) by policy no_allow_match/);
  });

  it('lets jwt_authn refuse a token it cannot verify', async () => {
    const forged = `${token(staff).split('.').slice(0, 2).join('.')}.${Buffer.from('not a signature').toString('base64url')}`;
    expect(await request([['authorization', `Bearer ${forged}`]])).toBe(401);
  });
});
