// Replacements for the `env` imports AssemblyScript emits by default (abort, seed, trace),
// which Envoy does not provide. The build wires them in with `--use abort=wfk_abort`,
// `--use seed=wfk_seed` and `--use trace=wfk_trace`.
import { proxy_log, wasi_random_get } from "./imports";
import { OUT_U64 } from "./memory";
import { encode1, aPtr, aLen } from "./utf8";

const CRITICAL: u32 = 5;
const TRACE: u32 = 0;

// @ts-ignore: decorator
@global
export function wfk_abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let text = "abort: " + (message !== null ? message : "(no message)");
  if (fileName !== null) {
    text += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  }
  encode1(text);
  proxy_log(CRITICAL, aPtr, aLen);
  // Envoy's proc_exit returns instead of stopping: trapping here is what fails the VM.
  unreachable();
}

// @ts-ignore: decorator
@global
export function wfk_seed(): f64 {
  wasi_random_get(OUT_U64, 8);
  return reinterpret<f64>(load<u64>(OUT_U64));
}

// @ts-ignore: decorator
@global
export function wfk_trace(message: string, n: i32, a0: f64, a1: f64, a2: f64, a3: f64, a4: f64): void {
  let text = "trace: " + message;
  if (n > 0) text += " " + a0.toString();
  if (n > 1) text += ", " + a1.toString();
  if (n > 2) text += ", " + a2.toString();
  if (n > 3) text += ", " + a3.toString();
  if (n > 4) text += ", " + a4.toString();
  encode1(text);
  proxy_log(TRACE, aPtr, aLen);
}
