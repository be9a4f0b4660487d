// The router's retry policy as the request headers a filter may set give it (Envoy strips a
// client's at the edge): x-envoy-retry-on, x-envoy-retry-grpc-on, x-envoy-max-retries,
// x-envoy-retriable-status-codes and x-envoy-upstream-rq-per-try-timeout-ms. The router reads them and removes them before
// forwarding, then decides after each attempt whether to try again.
import { takeHeader } from '../pairs.js';
import type { HeaderList, UpstreamResponse } from './types.js';

/** How one attempt at the upstream ended. */
export type AttemptOutcome =
  | { kind: 'response'; response: UpstreamResponse }
  /** The upstream reset the stream (HTTP/2), or closed the connection before answering (HTTP/1). */
  | { kind: 'reset'; reason: 'remote reset' | 'connection termination' }
  | { kind: 'connect-failure'; error: Error }
  | { kind: 'per-try-timeout' };

/** Envoy's default retry back-off: 25 ms base, capped at ten times that. */
const BASE_INTERVAL_MS = 25;
const MAX_INTERVAL_MS = 10 * BASE_INTERVAL_MS;

/** Envoy retries once when a retry-on header names conditions but no count. */
const DEFAULT_RETRIES = 1;


/** x-envoy-retry-grpc-on conditions and the grpc-status each retries. */
const GRPC_CONDITIONS: Record<string, string> = { cancelled: '1', 'deadline-exceeded': '4', 'resource-exhausted': '8', internal: '13', unavailable: '14' };

const RETRY_HEADERS = new Set(['x-envoy-retry-on', 'x-envoy-retry-grpc-on', 'x-envoy-max-retries', 'x-envoy-retriable-status-codes',
  'x-envoy-retriable-header-names', 'x-envoy-upstream-rq-per-try-timeout-ms']);

const tokens = (value: string | undefined) => (value ?? '').split(',').map((t) => t.trim()).filter(Boolean);

/** A decimal count or duration as Envoy's header parsers accept it (digits only). */
function count(value: string | undefined): number | undefined {
  return value !== undefined && /^[0-9]{1,10}$/.test(value) ? Number(value) : undefined;
}

export class RetryPolicy {
  private readonly on: Set<string>;
  private readonly statusCodes: Set<number>;
  private remaining: number;
  /** Attempts made after the first. */
  retried = 0;
  /** Set when the last outcome would have been retried but no retries were left (URX). */
  limitExceeded = false;

  private constructor(on: Set<string>, private readonly grpcOn: Set<string>, statusCodes: Set<number>, retries: number, readonly perTryTimeoutMs: number) {
    this.on = on;
    this.statusCodes = statusCodes;
    this.remaining = on.size || grpcOn.size ? retries : 0;
  }

  /** Reads the retry headers off the request reaching the router, removing them as Envoy does. */
  static fromHeaders(headers: HeaderList): RetryPolicy {
    // Most requests carry none: one pass decides, and they share a policy that never retries.
    if (!headers.some(([k]) => RETRY_HEADERS.has(k))) return NEVER;
    const on = new Set(tokens(takeHeader(headers, 'x-envoy-retry-on')));
    const grpcOn = new Set(tokens(takeHeader(headers, 'x-envoy-retry-grpc-on')).map((t) => GRPC_CONDITIONS[t]).filter(Boolean));
    const retries = count(takeHeader(headers, 'x-envoy-max-retries')) ?? DEFAULT_RETRIES;
    const codes = new Set(tokens(takeHeader(headers, 'x-envoy-retriable-status-codes')).map(Number).filter(Number.isInteger));
    takeHeader(headers, 'x-envoy-retriable-header-names');
    const perTry = count(takeHeader(headers, 'x-envoy-upstream-rq-per-try-timeout-ms')) ?? 0;
    return new RetryPolicy(on, grpcOn, codes, retries, perTry);
  }

  /** Whether Envoy's retry-on conditions cover this outcome. */
  private covers(outcome: AttemptOutcome): boolean {
    const on = this.on;
    if (outcome.kind === 'response') {
      const { status } = outcome.response;
      const headers = outcome.response.headers;
      // A rate-limited or overloaded answer is never retried.
      const pairs = Array.isArray(headers) ? headers : Object.entries(headers ?? {});
      const value = (name: string) => pairs.find(([k]) => k.toLowerCase() === name)?.[1];
      if (value('x-envoy-ratelimited') !== undefined || value('x-envoy-overloaded') !== undefined) return false;
      const grpcStatus = value('grpc-status');
      if (grpcStatus !== undefined && this.grpcOn.has(grpcStatus)) return true;
      if (on.has('5xx') && status >= 500 && status < 600) return true;
      if (on.has('gateway-error') && status >= 502 && status <= 504) return true;
      if (on.has('retriable-4xx') && status === 409) return true;
      return on.has('retriable-status-codes') && this.statusCodes.has(status);
    }
    // Envoy counts a reset, a failed connection and a per-try timeout as a 5xx or gateway error.
    if (on.has('5xx') || on.has('gateway-error') || on.has('reset')) return true;
    return outcome.kind === 'connect-failure' && on.has('connect-failure');
  }

  /** Decides on another attempt; returns its back-off in ms, or undefined to give this outcome to the client. */
  retryAfter(outcome: AttemptOutcome, random: () => number): number | undefined {
    if ((this.on.size === 0 && this.grpcOn.size === 0) || !this.covers(outcome)) return undefined;
    if (this.remaining === 0) {
      this.limitExceeded = true;
      return undefined;
    }
    this.remaining--;
    this.retried++;
    // Fully jittered exponential back-off: uniform below (2^n - 1) × base, capped.
    const ceiling = Math.min(((1 << Math.min(this.retried, 20)) - 1) * BASE_INTERVAL_MS, MAX_INTERVAL_MS);
    return Math.floor(random() * ceiling);
  }
}

/** The policy of a request without retry headers: no condition, so it never changes. */
const NEVER = RetryPolicy.fromHeaders([['x-envoy-max-retries', '0']]);
