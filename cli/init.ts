// `wfk init <dir>`: a standalone filter project that uses the kit as a dependency — a working
// filter with its schema and an example configuration, a vitest test in host-sim, an Envoy
// bootstrap that mounts it, a README — in which npm test, wfk build, check and run pass at once.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { PLAIN_DEPLOYMENT } from './deployment.js';
import { envoyBootstrap } from './envoy-config.js';
import { toYaml } from './envoy/resources.js';
import { UsageError } from './errors.js';
import { ROOT } from './paths.js';

const TEMPLATE = join(ROOT, 'cli', 'init', 'template');
const NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

export interface InitOptions {
  dir: string;
  /** The filter's name (default: the folder's name). */
  name?: string;
  /** How the project depends on the kit: an npm version range, a tarball, a git URL (default ^<this kit's version>). */
  kit?: string;
}

function templateFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? templateFiles(path) : [path];
  });
}

function packageJson(name: string, kit: string): string {
  const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  return `${JSON.stringify({
    name, version: '0.1.0', private: true, type: 'module',
    scripts: { build: 'wfk build', test: 'wfk build && vitest run', check: `wfk check dist/${name}.wasm` },
    dependencies: { 'wasm-filter-kit': kit },
    devDependencies: { vitest: own.devDependencies?.vitest ?? '^4.1.0' },
  }, null, 2)}\n`;
}

function envoyYaml(name: string, configuration: Record<string, unknown>): string {
  const bootstrap = envoyBootstrap({ filter: name, configuration, deployment: PLAIN_DEPLOYMENT });
  return `# Stock Envoy with ${name} in front of one service ("backend", port 8080): envoy -c envoy.yaml\n` +
    `# Regenerate after changing the configuration: npx wfk envoy-config ${name} --config config.json\n${toYaml(bootstrap)}`;
}

/** Writes the project; returns its folder and the files written (relative to it). */
export function initProject(options: InitOptions): { root: string; name: string; files: string[] } {
  const root = resolve(options.dir);
  const name = options.name ?? basename(root);
  if (!NAME.test(name)) {
    throw new UsageError(`"${name}" cannot name a filter: use lower-case letters, digits and single dashes, starting with a letter (pass --name <name> to choose one)`);
  }
  if (existsSync(root) && (!statSync(root).isDirectory() || readdirSync(root).length > 0)) {
    throw new UsageError(`${root} exists and is not an empty folder: choose a new one`);
  }
  const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const written: string[] = [];
  const write = (path: string, text: string) => {
    const target = join(root, path);
    mkdirSync(join(target, '..'), { recursive: true });
    writeFileSync(target, text);
    written.push(path);
  };
  for (const file of templateFiles(TEMPLATE)) {
    // npm leaves .gitignore files out of packages, so the template's is stored without the dot.
    const path = relative(TEMPLATE, file).replaceAll('__NAME__', name).replace(/^gitignore$/, '.gitignore');
    write(path, readFileSync(file, 'utf8').replaceAll('__NAME__', name));
  }
  write('package.json', packageJson(name, options.kit ?? `^${own.version}`));
  write('asconfig.json', `${JSON.stringify({ extends: './node_modules/wasm-filter-kit/asconfig.json' }, null, 2)}\n`);
  write('envoy.yaml', envoyYaml(name, JSON.parse(readFileSync(join(root, 'config.json'), 'utf8'))));
  return { root, name, files: written.sort() };
}
