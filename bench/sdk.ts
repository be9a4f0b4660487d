// The SDK against its peers: the peer spec filter (a request with `x-block: true` gets a local
// 403 "blocked\n", every response gets `x-peer`) built with our SDK, with @solo-io/proxy-runtime
// from the very same source, with the Rust SDK and with the Go SDK, each run in the bare harness
// host (bench/bare-host.ts). Each measurement runs in a process of its own, the peers in
// rotation. Time is the median over rounds; instructions are counted by callgrind as the
// difference between two request counts, so start-up and compilation cancel out.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../cli/build.js';
import { buildPeerModules } from './peer-modules.js';
import { median } from './table.js';

const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const REQUESTS = 400_000;
export const SDK_CONDITIONS = `time: median of ${ROUNDS} rounds of ${REQUESTS / 2} requests after as many to warm up; instructions: callgrind, whole process, 20,000 requests, the lower of two runs per count`;
const PATHS = ['pass', 'blocked'] as const;

type Peer = Awaited<ReturnType<typeof buildPeerModules>>[number];

const runner = (module: string, path: string, requests: number) =>
  ['--import', 'tsx', join(ROOT, 'bench', 'peer-run.ts'), module, path, String(requests)];

async function nanoseconds(peer: Peer, path: string): Promise<number> {
  const { stdout } = await run(process.execPath, runner(peer.module, path, REQUESTS), { cwd: ROOT });
  return Number(stdout.trim());
}

/**
 * Instructions the whole process executes per request, V8 compiling in the same thread. Each
 * count is the lower of two runs: now and then a run takes some 100 million instructions more
 * (a collection or a compilation landing differently), which would swing a difference of two
 * runs by a third.
 */
async function instructions(peer: Peer, path: string): Promise<number> {
  const once = async (requests: number) => {
    const { stderr } = await run('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath,
      '--single-threaded', '--no-liftoff', ...runner(peer.module, path, requests)], { cwd: ROOT, maxBuffer: 1 << 24 });
    return Number(/Collected : (\d+)/.exec(stderr)![1]);
  };
  const total = async (requests: number) => Math.min(await once(requests), await once(requests));
  return ((await total(22_000)) - (await total(2_000))) / 20_000;
}

async function hasValgrind(): Promise<boolean> {
  try {
    await run('valgrind', ['--version']);
    return true;
  } catch {
    return false;
  }
}

/** Measures the peers and returns the results as a Markdown table and its ratios. */
export async function benchSdk(): Promise<string[]> {
  const peers = await buildPeerModules();
  const time = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const peer of peers) {
      for (const path of PATHS) {
        const key = `${peer.label}|${path}`;
        time.set(key, [...(time.get(key) ?? []), await nanoseconds(peer, path)]);
      }
    }
  }
  const counted = await hasValgrind();
  const counts = new Map<string, number>();
  if (counted) for (const peer of peers) for (const path of PATHS) counts.set(`${peer.label}|${path}`, await instructions(peer, path));

  const ns = new Map([...time].map(([k, v]) => [k, median(v)]));
  const cell = (map: Map<string, number>, peer: Peer, path: string) => map.get(`${peer.label}|${path}`)?.toFixed(0) ?? 'n/a';
  const lines = [
    '| SDK | module bytes | ns/request pass | ns/request blocked | instructions pass | instructions blocked |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...peers.map((p) => `| ${p.label} | ${statSync(p.module).size} | ${cell(ns, p, 'pass')} | ${cell(ns, p, 'blocked')} | ${cell(counts, p, 'pass')} | ${cell(counts, p, 'blocked')} |`),
    '',
  ];
  const ours = peers[0];
  for (const other of peers.slice(1, 3)) {
    const ratio = (map: Map<string, number>, path: string) => (map.has(`${other.label}|${path}`)
      ? (map.get(`${ours.label}|${path}`)! / map.get(`${other.label}|${path}`)!).toFixed(2) : 'n/a');
    lines.push(`Ours against the ${other.label}: time ${ratio(ns, 'pass')} (pass), ${ratio(ns, 'blocked')} (blocked); ` +
      `instructions ${ratio(counts, 'pass')} (pass), ${ratio(counts, 'blocked')} (blocked). Goal: at most 1.00.`, '');
  }
  if (!counted) lines.push('Instructions: n/a (valgrind is not installed: apt-get install valgrind).');
  console.log('\nSDK peers: the peer spec filter in the bare host\n');
  for (const line of lines) console.log(line);
  return lines;
}
