// The registry options push and pull share: credentials, TLS, limits.
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { positiveInt } from './options.js';

export interface RegistryCliOptions {
  username?: string; passwordStdin?: boolean; caFile?: string; plainHttp?: boolean;
  maxModuleBytes?: string; maxManifestBytes?: string; timeout?: string;
}

export const registryFlags = (command: Command) => command
  .option('--username <name>', 'registry user (or WFK_REGISTRY_USERNAME, or docker login)')
  .option('--password-stdin', 'read the password from standard input (or WFK_REGISTRY_PASSWORD)')
  .option('--ca-file <pem>', "the CA that signed the registry's TLS certificate")
  .option('--plain-http', 'allow plain HTTP to a registry not on this machine')
  .option('--max-module-bytes <n>', 'largest module or layer accepted (default 64 MiB)')
  .option('--max-manifest-bytes <n>', 'largest manifest or image config accepted (default 4 MiB)')
  .option('--timeout <seconds>', 'longest the whole transfer may take (default 300)');

/** A malformed reference is the caller's mistake (exit 2), not the registry's. */
export async function checkReference(reference: string): Promise<void> {
  const { parseReference } = await import('../oci/registry.js');
  try { parseReference(reference); } catch (e) { throw new UsageError((e as Error).message); }
}

export async function registryOptions(options: RegistryCliOptions) {
  let password: string | undefined;
  if (options.passwordStdin && options.username === undefined && !process.env.WFK_REGISTRY_USERNAME) {
    throw new UsageError('--password-stdin needs --username <name> (or WFK_REGISTRY_USERNAME): a password alone logs in as nobody');
  }
  if (options.passwordStdin) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  return {
    username: options.username, password, caFile: options.caFile, plainHttp: options.plainHttp,
    maxModuleBytes: options.maxModuleBytes === undefined ? undefined : positiveInt(options.maxModuleBytes, '--max-module-bytes'),
    maxManifestBytes: options.maxManifestBytes === undefined ? undefined : positiveInt(options.maxManifestBytes, '--max-manifest-bytes'),
    timeoutMs: options.timeout === undefined ? undefined : positiveInt(options.timeout, '--timeout') * 1000,
  };
}
