// The peer spec filter the SDK benchmark compares (bench/peers/): built with our SDK, with
// @solo-io/proxy-runtime, with the Rust SDK and with the Go SDK, each must do the same in
// host-sim and in the benchmark's bare host, so the benchmark compares equal work.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BareHost } from '../bench/bare-host.js';
import { PEER_MODULES } from '../bench/peer-modules.js';
import { newHost } from './support/hosts.js';

describe.each(PEER_MODULES)('the peer spec filter built with $sdk', ({ build, marker }) => {
  it('passes a request and marks the response; answers x-block: true with a local 403', { timeout: 120_000 }, async () => {
    const module = await build();
    const host = newHost({ clusters: { backend: () => ({ status: 200, body: 'ok' }) } });
    host.addPlugin({ module, rootId: 'peer', configuration: '{}' });
    const passed = await host.request({ path: '/peer', headers: { 'x-block': 'false' } });
    expect(passed.status).toBe(200);
    expect(passed.upstream).toBeDefined();
    expect(passed.headers).toContainEqual(['x-peer', marker]);
    const blocked = await host.request({ path: '/peer', headers: { 'x-block': 'true' } });
    expect(blocked.status).toBe(403);
    expect(blocked.body).toBe('blocked\n');
    expect(blocked.upstream).toBeUndefined();
    expect(blocked.headers).toContainEqual(['x-peer', marker]);

    const bare = new BareHost({ module: readFileSync(module), rootId: 'peer', configuration: new TextEncoder().encode('{}') });
    const headers = (block: string): [string, string][] => [[':method', 'GET'], [':path', '/peer'], ['x-block', block]];
    expect(bare.request(headers('false'))).toMatchObject({ status: 200, headers: expect.arrayContaining([['x-peer', marker]]) });
    expect(bare.request(headers('true'))).toMatchObject({ status: 403, headers: expect.arrayContaining([['x-peer', marker]]), upstreamHeaders: undefined });
  });
});
