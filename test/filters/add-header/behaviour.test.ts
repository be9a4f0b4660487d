// add-header, the smallest filter: headers from its configuration onto requests and responses.
import { describe, expect, it } from 'vitest';
import { Host, PluginLoadError, type StreamResult } from '../../../host-sim/index.js';
import { filterModule } from '../../support/modules.js';
import { closeAfterTest } from '../../support/hosts.js';


const header = (r: StreamResult, name: string) => r.headers.find(([k]) => k === name)?.[1];

describe('add-header', () => {
  it('adds configured headers to the request and the response', async () => {
    const host = new Host({ clusters: { backend: () => ({ status: 204 }) } });
    closeAfterTest(host);
    host.addPlugin({ module: filterModule('add-header'), rootId: 'add-header',
      configuration: { request_headers: { 'x-env': 'prod', 'x-team': 'a' }, response_headers: { 'x-powered-by': 'wasm' } } });
    const r = await host.request({ path: '/', headers: { 'x-env': 'dev' } });
    expect(r.status).toBe(204);
    expect(r.upstream!.headers.filter(([k]) => k === 'x-env')).toEqual([['x-env', 'prod']]);
    expect(r.upstream!.headers).toContainEqual(['x-team', 'a']);
    expect(header(r, 'x-powered-by')).toBe('wasm');
  });

  it('accepts an empty configuration (proxy-runtime crashed on it)', async () => {
    const host = new Host();
    closeAfterTest(host);
    host.addPlugin({ module: filterModule('add-header'), rootId: 'add-header' });
    expect((await host.request()).status).toBe(200);
  });

  const badConfigurations: [string, unknown, RegExp][] = [
    ['invalid JSON', '{"request_headers": ', /not valid JSON: unexpected end of JSON at line 1, column 21/],
    ['a list instead of an object', [], /must be a JSON object, got array/],
    ['an unknown field', { request_header: {} }, /unknown field "request_header"/],
    ['an upper-case name', { request_headers: { 'X-A': '1' } }, /request_headers: header name "X-A" has upper-case letters/],
    ['a pseudo-header', { response_headers: { ':status': '500' } }, /response_headers\.:status: pseudo-headers cannot be added/],
    ['a number value', { request_headers: { 'x-a': 1 } }, /request_headers\.x-a: expected a string, got number/],
    ['a value with a newline', { request_headers: { 'x-a': 'a\r\nb' } }, /request_headers\.x-a: header value has a NUL, CR or LF/],
  ];
  for (const [what, configuration, message] of badConfigurations) {
    it(`rejects ${what} at configure, naming the field`, () => {
      const host = new Host();
      closeAfterTest(host);
      const load = () => host.addPlugin({ module: filterModule('add-header'), rootId: 'add-header',
        configuration: typeof configuration === 'string' ? configuration : configuration as object });
      expect(load).toThrow(PluginLoadError);
      expect(load).toThrow(message);
    });
  }
});
