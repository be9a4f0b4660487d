// host-sim's Node adapter, installed on import (host-sim/index.ts imports it first): files,
// real servers, the vm timeout for modules without a compiled-in budget, and V8's memory cap.
import { existsSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import vm from 'node:vm';
import { MAX_MEMORY_BYTES } from '../contract.js';
import { setPlatform } from '../platform.js';
import { nodeServers } from './servers.js';

// Process-wide, as in Envoy: memory.grow past 1 GiB returns -1.
setFlagsFromString(`--wasm-max-mem-pages=${MAX_MEMORY_BYTES / 65536}`);

const runner = new vm.Script('result = work()');
const context = vm.createContext({ work: undefined as (() => unknown) | undefined, result: undefined as unknown });

setPlatform({
  readFile: (path) => readFileSync(path),
  readFileIfExists: (path) => (existsSync(path) ? readFileSync(path) : undefined),
  nextTurn: () => new Promise((resolve) => setImmediate(resolve)),
  // V8 interrupts a script that runs past its timeout, a tight wasm loop included; it starts a
  // timer thread per run (~90 µs), which is why modules get a compiled-in budget when they can.
  interruptible: {
    run<T>(work: () => T, ms: number): T {
      context.work = work;
      try {
        runner.runInContext(context, { timeout: ms });
        return context.result as T;
      } finally {
        context.work = undefined;
        context.result = undefined;
      }
    },
    isTimeout: (error) => (error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT',
  },
  connect: nodeServers,
});
