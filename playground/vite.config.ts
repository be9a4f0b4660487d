// The playground's build: a static page (playground/) that bundles host-sim's browser entry and
// picks up the built filters (dist/*.wasm) and their schemas.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  // The page reads ../dist and ../filters: the dev server may serve the repository.
  server: { fs: { allow: [root] } },
  build: { outDir: fileURLToPath(new URL('../dist/playground', import.meta.url)), emptyOutDir: true, target: 'es2022', assetsInlineLimit: 0 },
  logLevel: 'warn',
});
