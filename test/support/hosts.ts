// The hosts a test file makes, closed after each test (their timers and gRPC clients stop).
import { afterEach } from 'vitest';
import { Host, type HostOptions } from '../../host-sim/index.js';

const made: Host[] = [];
afterEach(() => { for (const h of made.splice(0)) h.close(); });

/** Closes `host` after the current test. */
export function closeAfterTest(host: Host): Host {
  made.push(host);
  return host;
}

/** A new host, closed after the current test. */
export function newHost(options: HostOptions = {}): Host {
  return closeAfterTest(new Host(options));
}
