#!/usr/bin/env node
// Compiles the CLI, host-sim and the filters' deployment facts to JavaScript with types in lib/
// (npm runs it as `prepare`: on install from git, on `npm pack`, on `npm ci` here), so an
// installed kit runs without a TypeScript loader. Copies the data files the code reads beside it.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const lib = join(root, 'lib');
rmSync(lib, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.lib.json')], { stdio: 'inherit' });
cpSync(join(root, 'host-sim', 'contract'), join(lib, 'host-sim', 'contract'), { recursive: true });
for (const filter of readdirSync(join(root, 'filters'))) {
  const schema = join(root, 'filters', filter, 'schema.json');
  if (existsSync(schema) && existsSync(join(lib, 'filters', filter))) cpSync(schema, join(lib, 'filters', filter, 'schema.json'));
}
