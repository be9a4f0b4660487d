import { proxy_get_log_level, proxy_log } from "./internal/imports";
import { OUT_WORD } from "./internal/memory";
import { encode1, aPtr, aLen } from "./internal/utf8";
import { LogLevelValues } from "./enums";

/**
 * True when the host would print a message at `level`. Check it before building an expensive
 * message: `if (logEnabled(LogLevelValues.debug)) log(LogLevelValues.debug, "x=" + x.toString())`.
 */
export function logEnabled(level: LogLevelValues): bool {
  // Start functions may call only proxy_log: before the host's first callback, log everything.
  if (!hostCallbacksStarted) return true;
  store<u32>(OUT_WORD, 0);
  if (proxy_get_log_level(OUT_WORD) != 0) return true;
  return <u32>level >= load<u32>(OUT_WORD);
}

let hostCallbacksStarted = false;

/** Called by the SDK when the host makes its first callback (start functions are over). */
export function markHostCallbacksStarted(): void {
  hostCallbacksStarted = true;
}

/** Writes `message` to Envoy's log; a level the host does not print costs no UTF-8 encoding. */
export function log(level: LogLevelValues, message: string): void {
  if (!logEnabled(level)) return;
  encode1(message);
  proxy_log(<u32>level, aPtr, aLen);
}

export function logTrace(message: string): void { log(LogLevelValues.trace, message); }
export function logDebug(message: string): void { log(LogLevelValues.debug, message); }
export function logInfo(message: string): void { log(LogLevelValues.info, message); }
export function logWarn(message: string): void { log(LogLevelValues.warn, message); }
export function logError(message: string): void { log(LogLevelValues.error, message); }
export function logCritical(message: string): void { log(LogLevelValues.critical, message); }
