// host-sim's core runs in a page: nothing reachable from host-sim/browser.ts imports a Node-only
// module or uses Node's globals. (test/browser/ loads it in Chromium; this says where it breaks.)
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../cli/paths.js';

/** Every module reachable from `entry` by static or dynamic import, with what each imports. */
function importGraph(entry: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (file: string) => {
    if (graph.has(file)) return;
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)]
      .map((m) => m[1] ?? m[2] ?? m[3]);
    graph.set(file, specifiers);
    for (const s of specifiers) if (s.startsWith('.') && !s.endsWith('.json')) visit(resolve(dirname(file), s.replace(/\.js$/, '.ts')));
  };
  visit(entry);
  return graph;
}

describe('host-sim in a page', () => {
  const graph = importGraph(join(ROOT, 'host-sim', 'browser.ts'));

  it('reaches the whole core from the browser entry', () => {
    const files = [...graph.keys()].map((f) => relative(ROOT, f));
    expect(files).toContain('host-sim/host.ts');
    expect(files).toContain('host-sim/stream/http-stream.ts');
    expect(files.some((f) => f.startsWith('host-sim/node/'))).toBe(false);
  });

  it('imports no Node module or package and uses no Node global', () => {
    const problems: string[] = [];
    for (const [file, specifiers] of graph) {
      for (const s of specifiers) if (!s.startsWith('.')) problems.push(`${relative(ROOT, file)} imports ${s}`);
      const code = readFileSync(file, 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
      for (const global of ['process.', 'Buffer.', 'Buffer(', 'setImmediate', 'NodeJS.', 'require(', '__dirname']) {
        if (code.includes(global)) problems.push(`${relative(ROOT, file)} uses ${global.replace(/[.(]$/, '')}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
