// A client of the rate limit service's gRPC API (envoy.service.ratelimit.v3), to ask the real
// service what it holds for a descriptor.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import { ROOT } from '../../cli/build.js';

export interface RlsStatus { code: string; current_limit?: { requests_per_unit: number; unit: string }; limit_remaining: number }
export interface RlsAnswer { overall_code: string; statuses: RlsStatus[] }

type Client = grpc.Client & { ShouldRateLimit(request: object, callback: (e: grpc.ServiceError | null, r: RlsAnswer) => void): void };

export function rlsClient(port: number): { ask(domain: string, entries: [string, string][]): Promise<RlsAnswer>; close(): void } {
  const deps = join(ROOT, 'node_modules', '@grpc', 'grpc-js-xds', 'deps');
  const definition = protoLoader.loadSync('envoy/service/ratelimit/v3/rls.proto', {
    includeDirs: ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d)),
    keepCase: true, enums: String, longs: Number, defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { envoy: { service: { ratelimit: { v3: { RateLimitService: new (a: string, c: grpc.ChannelCredentials) => Client } } } } };
  const client = new pkg.envoy.service.ratelimit.v3.RateLimitService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    ask: (domain, entries) => new Promise((resolve, reject) => client.ShouldRateLimit(
      { domain, descriptors: [{ entries: entries.map(([key, value]) => ({ key, value })) }], hits_addend: 0 },
      (e, r) => (e ? reject(e) : resolve(r)))),
    close: () => client.close(),
  };
}
