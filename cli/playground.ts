// `wfk playground` (and `npm run playground`): builds the kit's filters, then serves the
// playground page (playground/) with Vite's dev server on 127.0.0.1 and opens it in a browser
// when one can be opened. Vite is a development dependency: this runs in the kit's repository.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BuildError, buildKitFilters } from './build.js';
import { UsageError } from './errors.js';
import { KIT } from './paths.js';

export interface PlaygroundOptions { port: number; open: boolean }

export async function servePlayground(say: (line: string) => void, options: PlaygroundOptions): Promise<{ url: string; close: () => Promise<void> }> {
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    throw new UsageError('wfk playground needs Vite, a development dependency of the kit: run it in the kit\'s repository after `npm ci`');
  }
  say('Building the filters ...');
  const { failed } = await buildKitFilters([], { debug: false, progress: (line) => say(`  ${line}`) });
  if (failed.length > 0) throw new BuildError(failed.map(({ error }) => error.message).join('\n\n'));
  const server = await vite.createServer({
    configFile: join(KIT.root, 'playground', 'vite.config.ts'),
    server: { host: '127.0.0.1', port: options.port, strictPort: false, open: options.open },
  });
  await server.listen();
  const url = server.resolvedUrls?.local[0] ?? `http://127.0.0.1:${options.port}/`;
  say(`The playground is at ${url} (Ctrl-C stops it)`);
  return { url, close: () => server.close() };
}

/** The page's static build, for hosting anywhere: dist/playground/. */
export async function buildPlayground(): Promise<string> {
  const vite = await import('vite');
  const configFile = join(KIT.root, 'playground', 'vite.config.ts');
  await vite.build({ configFile });
  const config = (await import(pathToFileURL(configFile).href)).default as { build: { outDir: string } };
  return config.build.outDir;
}
