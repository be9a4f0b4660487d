// The errors wfk reports, apart from the modules that raise them so the entry can tell them
// apart without loading those modules (the compiler among them).

/** The command line names something that cannot be used (exit 2). */
export class UsageError extends Error {}

/** The command ran and its answer is "no", e.g. a module Envoy would refuse (exit 1). */
export class WorkFailed extends Error {}

/** A filter or module did not compile (exit 1). */
export class BuildError extends Error {
  override name = 'BuildError';
}

/** A registry refused, failed or sent something that is not what was asked for (exit 1). */
export class RegistryError extends Error {
  override name = 'RegistryError';
}

/** What a system error code means, and what to do about it, in words (codes alone say little). */
const SYSTEM_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a folder, not a file',
  ECONNREFUSED: 'connection refused: nothing listens there (is the service running, and the port right?)',
  ENOTFOUND: 'the host name does not resolve (check the name and the network)',
  EAI_AGAIN: 'the host name could not be resolved now (check the network, then try again)',
  ECONNRESET: 'the connection was reset by the other side',
  ETIMEDOUT: 'the connection timed out (is the host reachable?)',
  EHOSTUNREACH: 'the host is unreachable (check the network)',
};

/** An error from Node's I/O as a sentence: the meaning of its code, else its message. */
export function describeSystemError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e.code && SYSTEM_ERRORS[e.code]) return SYSTEM_ERRORS[e.code];
  if (e.code?.startsWith('HPE_')) return 'the answer is not HTTP (does the server speak HTTPS? then pass its CA with --ca-file)';
  return e.message ?? String(error);
}
