// Findings of the attack review against rate-quota's shared state: clients choose the keys, so
// they must not be able to aim keys at a slot, flush a throttled key, grow memory with long
// keys, or win quota back when the wall clock steps backwards. And peer labels need mTLS.
import { describe, expect, it } from 'vitest';
import { Host, type RequestSpec } from '../../../host-sim/index.js';
import { protoStruct } from '../../../host-sim/attributes.js';
import { filterModule } from '../../support/modules.js';
import { closeAfterTest } from '../../support/hosts.js';


function rateQuota(configuration: object, seed = 1): Host {
  const host = new Host({ workers: 2, seed, clusters: { backend: () => ({ status: 200, body: 'ok' }) } });
  closeAfterTest(host);
  host.addPlugin({ module: filterModule('rate-quota'), rootId: 'rate-quota', configuration });
  return host;
}

const perUser = (extra: object = {}) => ({ dimensions: { user: { header: 'x-user' } }, max_keys: 64, ...extra,
  quotas: [{ name: 'q', dimensions: ['user'], max_amount: 1, valid_duration: '60s' }] });
const as = (user: string): RequestSpec => ({ headers: { 'x-user': user } });
const status = async (host: Host, spec: RequestSpec) => (await host.request(spec)).status;

/** FNV-1a, the placement the filter used to use: an attacker could aim keys at a victim's slots. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text)) { h ^= byte; h = Math.imul(h, 0x01000193) >>> 0; }
  return h >>> 0;
}

describe('a throttled key cannot be flushed', () => {
  it('four keys aimed at its slots (the old attack) leave it throttled', async () => {
    const host = rateQuota(perUser());
    expect(await status(host, as('victim'))).toBe(200);
    expect(await status(host, as('victim'))).toBe(429);
    const target = fnv1a('victim') % 64;
    const aimed: string[] = [];
    for (let i = 0; aimed.length < 8; i++) if ((fnv1a(`a${i}`) % 64 + 64 - target) % 64 < 4) aimed.push(`a${i}`);
    for (const key of aimed) await host.request(as(key));
    expect(await status(host, as('victim'))).toBe(429);
  });

  it('no number of new keys hands it a fresh bucket: keys beyond the table share one overflow bucket', async () => {
    for (const seed of [1, 2, 3]) {
      const host = rateQuota(perUser(), seed);
      expect(await status(host, as('victim'))).toBe(200);
      const flood: number[] = [];
      for (let i = 0; i < 2_000; i++) flood.push(await status(host, as(`attacker-${i}`)));
      expect(await status(host, as('victim'))).toBe(429);
      // 63 free slots and the overflow bucket: at most 64 of the attacker's 2,000 requests pass.
      expect(flood.filter((s) => s === 200).length).toBeLessThanOrEqual(64);
      expect(host.metrics.value('rate_quota.overflow')).toBeGreaterThan(1_900);
    }
  });
});

describe('state per key has a fixed size', () => {
  it('stores digests, not keys: 50 KiB keys take no more room, and are counted as too long', async () => {
    const host = rateQuota(perUser());
    for (let i = 0; i < 20; i++) await host.request({ headers: { 'x-user': `${i}-${'k'.repeat(50 * 1024)}` } });
    const sizes = host.shared.keys('').map((k) => host.shared.get('', k)!.value.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(60);
    expect(host.metrics.value('rate_quota.key_too_long')).toBe(20);
    // Oversized keys share one bucket: one of the twenty passed.
    expect(host.metrics.value('rate_quota.q.allowed')).toBe(1);
  });
});

describe('the clock', () => {
  it('a wall clock stepping back re-grants no quota (token bucket and fixed window)', async () => {
    for (const algorithm of ['token_bucket', 'fixed_window']) {
      const host = rateQuota({ dimensions: { user: { header: 'x-user' } },
        quotas: [{ name: 'q', dimensions: ['user'], max_amount: 2, valid_duration: '60s', algorithm }] });
      await host.advance(30_000);
      expect(await status(host, as('u'))).toBe(200);
      expect(await status(host, as('u'))).toBe(200);
      expect(await status(host, as('u'))).toBe(429);
      host.clock.stepWallClock(-120_000);
      expect(await status(host, as('u')), algorithm).toBe(429);
      host.clock.stepWallClock(120_000);
      expect(await status(host, as('u')), algorithm).toBe(429);
    }
  });
});

describe('peer labels need an authenticated peer', () => {
  const memquota = { dimensions: { source: [{ peer_label: 'app' }, { constant: 'unknown' }] },
    quotas: [{ name: 'q', dimensions: ['source'], max_amount: 100, valid_duration: '1s', overrides: [{ dimensions: { source: 'reviews' }, max_amount: 1, valid_duration: '60s' }] }] };
  const claim = Buffer.from(protoStruct({ NAMESPACE: 'bookinfo', SERVICE_ACCOUNT: 'reviews', LABELS: { app: 'reviews' } })).toString('base64');

  it('a client cannot move itself into another workload\'s bucket with a forged header', async () => {
    const host = rateQuota(memquota);
    const reviews = { tls: { peerCertificate: { uriSan: 'spiffe://cluster.local/ns/bookinfo/sa/reviews' } }, headers: { 'x-envoy-peer-metadata': claim } };
    expect(await status(host, reviews)).toBe(200);
    expect(await status(host, reviews)).toBe(429);
    // A forged claim lands in "unknown" (100 per second), not in reviews' exhausted bucket.
    expect(await status(host, { headers: { 'x-envoy-peer-metadata': claim } })).toBe(200);
    expect(host.metrics.value('rate_quota.peer_metadata.untrusted')).toBe(1);
    expect(host.metrics.value('rate_quota.peer_metadata.trusted')).toBe(2);
  });
});
