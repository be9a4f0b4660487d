// The kit used from another repository, as a new user would: pack it (and install it from git),
// scaffold a project with `wfk init`, install the kit into it, then build, test, check and run
// there. Real npm, real files; the registry is npm's.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { envoyMissingReason, validateBootstrap } from '../cli/envoy/process.js';
import { ROOT } from '../cli/paths.js';

const work = mkdtempSync(join(tmpdir(), 'wfk-package-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const npm = (args: string[], cwd: string) => execFileSync('npm', [...args, '--no-audit', '--no-fund'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const npx = (args: string[], cwd: string) => spawnSync('npx', ['--no-install', ...args], { cwd, encoding: 'utf8' });

describe('wasm-filter-kit as a dependency', () => {
  it('packs, scaffolds with wfk init, installs from the tarball, and builds, tests, checks and runs on the first try', () => {
    npm(['pack', '--pack-destination', work], ROOT);
    const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
    const init = spawnSync(process.execPath, [join(ROOT, 'cli', 'bin', 'wfk.mjs'), 'init', 'my-filter', '--kit', `file:${tarball}`], { cwd: work, encoding: 'utf8' });
    expect(init.status, init.stderr).toBe(0);
    const project = join(work, 'my-filter');
    npm(['install'], project);
    // The installed kit runs its compiled JavaScript: no TypeScript sources came with it.
    expect(readdirSync(join(project, 'node_modules', 'wasm-filter-kit', 'cli'))).toEqual(['bin', 'init']);

    const test = spawnSync('npm', ['test'], { cwd: project, encoding: 'utf8' });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/4 passed/);

    const again = npx(['wfk', 'build'], project);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/my-filter: \d+ bytes \(unchanged\)/);

    const check = npx(['wfk', 'check', 'dist/my-filter.wasm'], project);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/ok: Envoy would load this module/);

    const run = npx(['wfk', 'run', 'my-filter', '--config', 'config.json', '--path', '/admin/users'], project);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/GET \/admin\/users -> 403, decided by my-filter \(blocked_by_my-filter\)/);

    // The scaffold's envoy.yaml mounts the built module in stock Envoy: Envoy's own validation accepts it.
    if (envoyMissingReason() === undefined) {
      const bootstrap = parseYaml(readFileSync(join(project, 'envoy.yaml'), 'utf8'), { version: '1.1' });
      const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
      const wasm = hcm.http_filters.find((f: { name: string }) => f.name === 'envoy.filters.http.wasm');
      expect(wasm.typed_config.config.vm_config.code.local.filename).toBe('/etc/envoy/wasm/my-filter.wasm');
      wasm.typed_config.config.vm_config.code.local.filename = join(project, 'dist', 'my-filter.wasm');
      expect(validateBootstrap(bootstrap)).toBeUndefined();
    }

    const version = npx(['wfk', '--version'], project);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    // The installed CLI scaffolds too.
    expect(npx(['wfk', 'init', join(work, 'second')], project).status).toBe(0);
    expect(readdirSync(join(work, 'second'))).toContain('package.json');
  }, 600_000);

  it('keeps building past a filter that does not compile, fails with the compiler\'s message and exit 1', () => {
    const project = join(work, 'my-filter');
    mkdirSync(join(project, 'filters', 'broken'), { recursive: true });
    writeFileSync(join(project, 'filters', 'broken', 'index.ts'), 'export const x: i32 = "text";\n');
    const build = npx(['wfk', 'build'], project);
    expect(build.status).toBe(1);
    expect(build.stderr).toMatch(/filters\/broken\/index\.ts \(release\) did not compile:[\s\S]*TS2322/);
    expect(build.stderr).toMatch(/my-filter: \d+ bytes \(unchanged\)/);
    rmSync(join(project, 'filters', 'broken'), { recursive: true });
  }, 120_000);

  it('installs from a git URL (npm prepares it: compiles lib/), and its wfk scaffolds and builds', () => {
    const init = spawnSync(process.execPath, [join(ROOT, 'cli', 'bin', 'wfk.mjs'), 'init', 'from-git', '--kit', `git+file://${ROOT}`], { cwd: work, encoding: 'utf8' });
    expect(init.status, init.stderr).toBe(0);
    const project = join(work, 'from-git');
    npm(['install'], project);
    const test = spawnSync('npm', ['test'], { cwd: project, encoding: 'utf8' });
    expect(test.status, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/4 passed/);
  }, 600_000);
});
