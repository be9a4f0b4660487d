// One SDK peer in the bare host, in a process of its own so no other module shapes what V8
// makes of the host's code: `node --import tsx bench/peer-run.ts <module> <pass|blocked> <requests>`
// runs the requests and prints the nanoseconds per request of the last half (the first warms up).
import { readFileSync } from 'node:fs';
import { BareHost } from './bare-host.js';

const [module, path, count] = process.argv.slice(2);
const host = new BareHost({ module: readFileSync(module), rootId: 'peer', configuration: new TextEncoder().encode('{}') });
const headers: [string, string][] = [[':method', 'GET'], [':path', '/peer'], [':authority', 'bench'], ['x-block', path === 'blocked' ? 'true' : 'false']];
const expected = path === 'blocked' ? 403 : 200;
const requests = Number(count);
const check = host.request(headers);
if (check.status !== expected || !check.headers.some(([k]) => k === 'x-peer')) {
  throw new Error(`${module} answered ${check.status} without the expected x-peer header on the ${path} path`);
}
for (let i = 0; i < requests / 2; i++) host.request(headers);
const start = process.hrtime.bigint();
for (let i = 0; i < requests / 2; i++) host.request(headers);
console.log(Number(process.hrtime.bigint() - start) / (requests / 2));
