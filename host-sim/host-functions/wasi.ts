import { WasiErrno } from '../abi.js';
import { concatBytes } from '../bytes.js';
import type { WasmVm } from '../vm.js';
import type { HostServices } from './host-services.js';

const RANDOM_GET_MAX = 65536;

/** The WASI functions Envoy 1.40 provides, with its behaviour (tiers T1 and T2; the others answer ENOSYS). */
export function wasiFunctions(vm: WasmVm, services: HostServices, environment: Record<string, string>) {
  const envEntries = () => Object.entries(environment).map(([k, v]) => new TextEncoder().encode(`${k}=${v}\0`));
  return {
    fd_write(fd: number, iovs: number, iovsLen: number, nwrittenPtr: number): number {
      if (fd !== 1 && fd !== 2) return WasiErrno.BADF;
      const view = vm.view();
      const parts: Uint8Array[] = [];
      let total = 0;
      for (let i = 0; i < iovsLen; i++) {
        const ptr = view.getUint32(iovs + i * 8, true);
        const len = view.getUint32(iovs + i * 8 + 4, true);
        parts.push(vm.copyBytes(ptr, len));
        total += len;
      }
      let text = new TextDecoder().decode(concatBytes(...parts));
      if (text.endsWith('\n')) text = text.slice(0, -1);
      vm.log(fd === 1 ? 'info' : 'error', text);
      vm.setU32(nwrittenPtr, total);
      return WasiErrno.SUCCESS;
    },
    fd_read(): number { return WasiErrno.NOSYS; },
    fd_seek(): number { return WasiErrno.SUCCESS; },
    fd_close(): number { return WasiErrno.SUCCESS; },
    fd_fdstat_get(fd: number, statPtr: number): number {
      if (fd !== 1 && fd !== 2) return WasiErrno.BADF;
      vm.bytes(statPtr, 24).fill(0);
      vm.setU64(statPtr + 8, 64n);
      return WasiErrno.SUCCESS;
    },
    environ_get(environPtr: number, bufPtr: number): number {
      let offset = bufPtr;
      envEntries().forEach((entry, i) => {
        vm.setU32(environPtr + i * 4, offset);
        vm.bytes(offset, entry.length).set(entry);
        offset += entry.length;
      });
      return WasiErrno.SUCCESS;
    },
    environ_sizes_get(countPtr: number, sizePtr: number): number {
      const entries = envEntries();
      vm.setU32(countPtr, entries.length);
      vm.setU32(sizePtr, entries.reduce((n, e) => n + e.length, 0));
      return WasiErrno.SUCCESS;
    },
    args_get(): number { return WasiErrno.SUCCESS; },
    args_sizes_get(argcPtr: number, sizePtr: number): number {
      vm.setU32(argcPtr, 0);
      vm.setU32(sizePtr, 0);
      return WasiErrno.SUCCESS;
    },
    clock_time_get(clockId: number, _precision: bigint, resultPtr: number): number {
      if (clockId === 0) vm.setU64(resultPtr, services.clock.nowNanos());
      else if (clockId === 1) vm.setU64(resultPtr, services.clock.monotonicNanos());
      else return WasiErrno.NOTSUP;
      return WasiErrno.SUCCESS;
    },
    random_get(bufPtr: number, bufLen: number): number {
      if (bufLen > RANDOM_GET_MAX) return WasiErrno.INVAL;
      if (bufLen > 0) globalThis.crypto.getRandomValues(vm.bytes(bufPtr, bufLen));
      return WasiErrno.SUCCESS;
    },
    proc_exit(code: number): void {
      // Envoy returns without a word at info level: the module is expected to trap right after.
      vm.hostLog('debug', `wasi proc_exit(${code})`);
    },
    // Tier T2 (cpp-host since 2024-12, in Envoy 1.40): Go's wasip1 runtime needs these.
    sched_yield(): number { return WasiErrno.SUCCESS; },
    poll_oneoff(_in: number, _out: number, _subscriptions: number, neventsPtr: number): number {
      // Envoy never sleeps a VM: no event is ready.
      vm.setU32(neventsPtr, 0);
      return WasiErrno.SUCCESS;
    },
    path_open(): number { return WasiErrno.NOENT; },
    fd_prestat_get(): number { return WasiErrno.BADF; },
    fd_prestat_dir_name(): number { return WasiErrno.NOSYS; },
  } as Record<string, (...args: never[]) => number | void>;
}
