// wfk init: a new filter project that uses the kit as a dependency.
import type { Command } from 'commander';

export function register(program: Command): void {
  program.command('init')
    .description('create a filter project in <dir>: a working filter, its schema, a host-sim test, an Envoy config and a README')
    .argument('<dir>', 'a new (or empty) folder')
    .option('--name <name>', "the filter's name (default: the folder's name)")
    .option('--kit <spec>', 'how the project depends on wasm-filter-kit: a version range, a tarball or a git URL (default: this version)')
    .action(async (dir: string, options: { name?: string; kit?: string }) => {
      const { initProject } = await import('../init.js');
      const { root, name, files } = initProject({ dir, name: options.name, kit: options.kit });
      process.stdout.write(`Created ${name} in ${root}:\n${files.map((f) => `  ${f}`).join('\n')}\n\nNext:\n` +
        `  cd ${dir}\n  npm install\n  npm test\n  npx wfk run ${name} --config config.json --path /admin/users\n`);
    });
}
