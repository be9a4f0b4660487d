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
