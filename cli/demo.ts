// The README's first command: build the filters and run requests through them in host-sim,
// printing what each step did.
import { join } from 'node:path';
import { Host } from '../host-sim/index.js';
import { buildFilters, DIST_DIR } from './build.js';

export async function runDemo(say: (line: string) => void): Promise<void> {
  say('Building the filters ...');
  const built = await buildFilters([], { debug: false, progress: (line) => say(`  ${line}`) });
  say('');
  const host = new Host({
    clusters: {
      backend: (req) => ({
        status: 200,
        headers: { 'content-type': 'text/plain' },
        body: `hello from the backend; it saw x-team=${req.headers.find(([k]) => k === 'x-team')?.[1] ?? '(none)'}`,
      }),
    },
  });
  if (built.some((b) => b.name === 'add-header')) {
    say('Chain: add-header -> router -> cluster "backend"');
    host.addPlugin({
      module: join(DIST_DIR, 'add-header.wasm'), rootId: 'add-header',
      configuration: { request_headers: { 'x-team': 'platform' }, response_headers: { 'x-served-by': 'wasm-filter-kit' } },
    });
    const response = await host.request({ method: 'GET', path: '/hello', headers: { 'user-agent': 'demo' } });
    say('GET /hello');
    say(`  upstream cluster: ${response.upstream?.cluster}`);
    say(`  headers the backend received: ${response.upstream?.headers.filter(([k]) => !k.startsWith(':')).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    say(`  response: ${response.status} ${response.headers.filter(([k]) => !k.startsWith(':')).map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    say(`  body: ${response.body}`);
    say('');
    say('A configuration Envoy would reject (an upper-case header name):');
    try {
      host.addPlugin({ module: join(DIST_DIR, 'add-header.wasm'), rootId: 'add-header', configuration: { request_headers: { 'X-Team': 'x' } } });
    } catch (e) {
      say(`  ${(e as Error).message}`);
    }
  }
  host.close();
}
