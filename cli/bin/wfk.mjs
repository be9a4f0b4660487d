#!/usr/bin/env node
// wfk's entry. An installed kit runs its compiled JavaScript (lib/, made when the package is
// packed or installed from git); a source checkout runs the TypeScript through tsx, so changing
// the CLI needs no compile step.
import { existsSync } from 'node:fs';

const sources = new URL('../wfk.ts', import.meta.url);
const compiled = new URL('../../lib/cli/wfk.js', import.meta.url);
let main;
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import(compiled.href));
}
process.exitCode = await main(process.argv);
