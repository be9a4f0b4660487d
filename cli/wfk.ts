// wfk: build, check and try Proxy-Wasm filters. Exit codes: 0 success, 1 the work failed
// (a build error, a module Envoy would refuse), 2 the command line was wrong. Each command is a
// file in cli/commands/; this entry wires them and turns errors into messages and exit codes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Help } from 'commander';
import { register as build } from './commands/build.js';
import { register as check } from './commands/check.js';
import { register as run } from './commands/run.js';
import { register as fuzz } from './commands/fuzz.js';
import { register as inspect } from './commands/inspect.js';
import { register as envoyConfig } from './commands/envoy-config.js';
import { register as push } from './commands/push.js';
import { register as pull } from './commands/pull.js';
import { register as statsTags } from './commands/stats-tags.js';
import { register as serviceConfig } from './commands/service-config.js';
import { register as demo } from './commands/demo.js';
import { register as playground } from './commands/playground.js';
import { register as init } from './commands/init.js';
import { BuildError, UsageError, WorkFailed } from './errors.js';
import { ROOT } from './paths.js';

export async function main(argv: string[]): Promise<number> {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const program = new Command('wfk')
    .description('Write, test and ship Envoy Proxy-Wasm filters in AssemblyScript')
    .version(version, '-v, --version', 'print the version')
    .addHelpText('after', '\nExit codes: 0 success, 1 the work failed (a build error, a module Envoy would refuse, a registry refusal), 2 the command line was wrong.')
    .exitOverride()
    .showHelpAfterError('(run wfk --help for usage)')
    // Inherited by every command: options a command cannot run without say so.
    .configureHelp({ optionDescription: (option) => `${new Help().optionDescription(option)}${option.mandatory ? ' (required)' : ''}` });
  for (const register of [init, build, check, run, fuzz, inspect, envoyConfig, push, pull, statsTags, serviceConfig, demo, playground]) register(program);

  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof WorkFailed) {
      if (e.message) process.stderr.write(`wfk: ${e.message}\n`);
      return 1;
    }
    if (e instanceof UsageError) { process.stderr.write(`wfk: ${e.message}\n`); return 2; }
    if (e instanceof BuildError) { process.stderr.write(`wfk: build failed: ${e.message}\n`); return 1; }
    process.stderr.write(`wfk: ${(e as Error).message}\n`);
    return 1;
  }
}

