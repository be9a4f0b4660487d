import { LOG_LEVEL_NAMES, type LogLevelName } from './abi.js';

export interface LogEntry {
  level: LogLevelName;
  message: string;
  /** The plugin that wrote it ("" for the host itself). */
  plugin: string;
  /** "canary" for the configuration check, else the worker index. */
  vm: string;
}

/** Everything the modules and the host logged, as Envoy would print it. */
export class LogSink {
  readonly entries: LogEntry[] = [];
  /** The level the host reports through proxy_get_log_level: lower levels are dropped. */
  level: LogLevelName = 'trace';
  /** Also print to the console's error stream (useful while writing a test). */
  echo = false;
  /** The most entries kept; older ones are dropped first, so long runs stay bounded. */
  maxEntries = 100_000;

  levelNumber(): number { return LOG_LEVEL_NAMES.indexOf(this.level); }

  write(entry: LogEntry): void {
    if (LOG_LEVEL_NAMES.indexOf(entry.level) < this.levelNumber()) return;
    this.entries.push(entry);
    if (this.entries.length > this.maxEntries) this.entries.splice(0, this.entries.length - this.maxEntries);
    if (this.echo) console.error(`[${entry.level}] wasm log ${entry.plugin}: ${entry.message}`);
  }

  /** Messages at `level` (and optionally from `plugin`). */
  messages(level?: LogLevelName, plugin?: string): string[] {
    return this.entries
      .filter((e) => (level === undefined || e.level === level) && (plugin === undefined || e.plugin === plugin))
      .map((e) => e.message);
  }

  clear(): void { this.entries.length = 0; }
}
