#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the kit needs no separate compile step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../wfk.ts');
process.exitCode = await main(process.argv);
