// `wfk service-config rate-quota`: the service's limits generated from the filter's configuration, loaded
// into the real envoyproxy/ratelimit and asked for each kind of descriptor the filter sends.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../cli/build.js';
import { rlsClient } from './rls-client.js';
import { RateLimitService, Redis, fleetMissingReason } from './services.js';

const dir = mkdtempSync(join(tmpdir(), 'wfk-rlconfig-'));
const wfk = (config: object) => {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  return spawnSync(process.execPath, [join(ROOT, 'cli', 'bin', 'wfk.mjs'), 'service-config', 'rate-quota', '--config', file], { encoding: 'utf8' });
};

const TIERED = {
  mode: 'global',
  dimensions: { user: { header: 'x-user-id' }, tier: { header: 'x-tier' } },
  quotas: [
    { name: 'per_user', dimensions: ['user'], max_amount: 100, valid_duration: '1m' },
    { name: 'per_tier_user', dimensions: ['tier', 'user'], max_amount: 5, valid_duration: '1s',
      overrides: [{ dimensions: { tier: 'gold' }, max_amount: 50 }, { dimensions: { user: 'admin' }, max_amount: 1000, valid_duration: '1h' }] },
    { name: 'trial', dimensions: ['user'], max_amount: 5, valid_duration: '24h', shadow: true },
    { name: 'everyone', max_amount: 1000, valid_duration: '1s' },
  ],
  rate_limit_service: { cluster: 'ratelimit', domain: 'edge', timeout: '25ms' },
};

describe('wfk service-config rate-quota', () => {
  it('prints the README example\'s service configuration', () => {
    const r = wfk({ mode: 'global', dimensions: { user: { header: 'x-user-id' } }, quotas: [{ name: 'per_user', dimensions: ['user'], max_amount: 100, valid_duration: '1m' }],
      rate_limit_service: { cluster: 'ratelimit', domain: 'edge', timeout: '25ms', failure_mode_deny: false } });
    expect(r.status, r.stderr).toBe(0);
    expect(parse(r.stdout)).toEqual({ domain: 'edge', descriptors: [{ key: 'quota', value: 'per_user', descriptors: [{ key: 'user', rate_limit: { unit: 'minute', requests_per_unit: 100 } }] }] });
  });

  it('refuses, naming the field, a window the service cannot count, local mode, and what the filter itself refuses', () => {
    const odd = wfk({ ...TIERED, quotas: [{ name: 'q', max_amount: 5, valid_duration: '30s' }] });
    expect(odd.status).toBe(2);
    expect(odd.stderr).toMatch(/quotas\[0\]\.valid_duration: the rate limit service counts per second, minute, hour, day or week; "30s"/);
    const { rate_limit_service: _service, ...localMode } = TIERED;
    const local = wfk({ ...localMode, mode: 'local' });
    expect(local.status).toBe(2);
    expect(local.stderr).toMatch(/global mode only/);
    const refused = wfk({ ...TIERED, quotas: [{ name: 'q', max_amount: 0, valid_duration: '1s' }] });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/the rate-quota filter refuses this configuration: .*max_amount/);
  });

  describe.skipIf(fleetMissingReason() !== undefined)('loaded into the real service', () => {
    let redis: Redis;
    let service: RateLimitService;
    let client: ReturnType<typeof rlsClient>;
    beforeAll(async () => {
      const r = wfk(TIERED);
      expect(r.status, r.stderr).toBe(0);
      redis = await Redis.start();
      service = await RateLimitService.start(redis, { edge: r.stdout });
      client = rlsClient(service.grpcPort);
    }, 60_000);
    afterAll(async () => { client?.close(); await service?.close(); await redis?.stop(); });

    // What the filter would pick for each descriptor: the first override that matches.
    it.each([
      [[['quota', 'per_user'], ['user', 'bob']], 100, 'MINUTE'],
      [[['quota', 'per_tier_user'], ['tier', 'silver'], ['user', 'bob']], 5, 'SECOND'],
      [[['quota', 'per_tier_user'], ['tier', 'gold'], ['user', 'bob']], 50, 'SECOND'],
      [[['quota', 'per_tier_user'], ['tier', 'silver'], ['user', 'admin']], 1000, 'HOUR'],
      [[['quota', 'per_tier_user'], ['tier', 'gold'], ['user', 'admin']], 50, 'SECOND'],
      [[['quota', 'trial'], ['user', 'bob']], 5, 'DAY'],
      [[['quota', 'everyone']], 1000, 'SECOND'],
    ] as [[string, string][], number, string][])('%j: %i per %s', async (entries, perUnit, unit) => {
      const answer = await client.ask('edge', entries);
      expect(answer.statuses[0].current_limit).toMatchObject({ requests_per_unit: perUnit, unit });
    });
  });
});
