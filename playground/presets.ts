// Ready setups from the scenarios the kit was built for: Istio's memquota example, a Mixer-style
// deny rule, a 1% canary, fault injection, Istio's telemetry, and a circuit breaker with a
// fallback. Each is deterministic (sticky keys instead of coin flips), so the page and Node agree.
import type { Setup } from './session.js';

export interface Preset { id: string; title: string; explains: string; setup: Setup }

const json = (value: unknown) => JSON.stringify(value, null, 2);

const REVIEWS_V3 = { identity: 'spiffe://cluster.local/ns/default/sa/reviews', labels: { app: 'reviews', version: 'v3' } };

export const PRESETS: Preset[] = [
  {
    id: 'memquota',
    title: "Istio's memquota example",
    explains: 'rate-quota as Istio configured memquota: anything calling ratings gets 5 requests per 10 s; reviews v3 gets 1 per 5 s.',
    setup: {
      chain: [{ filter: 'rate-quota', configuration: json({
        dimensions: {
          destination: [{ property: ['xds', 'node', 'metadata', 'LABELS', 'app'] }, { constant: 'unknown' }],
          source: [{ peer_label: 'app' }, { constant: 'unknown' }],
          sourceVersion: [{ peer_label: 'version' }, { constant: 'unknown' }],
        },
        quotas: [{ name: 'requestcount', dimensions: ['destination', 'source', 'sourceVersion'], max_amount: 5000, valid_duration: '1s',
          overrides: [
            { dimensions: { destination: 'ratings', source: 'reviews', sourceVersion: 'v3' }, max_amount: 1, valid_duration: '5s' },
            { dimensions: { destination: 'ratings' }, max_amount: 5, valid_duration: '10s' },
          ] }],
      }) }],
      upstreams: [{ name: 'ratings', status: 200, body: '{"ratings":{"Reviewer1":5}}' }],
      request: { method: 'GET', path: '/ratings/0', headers: [], body: '' },
      burst: { count: 8, intervalMs: 200 },
    },
  },
  {
    id: 'mixer-deny',
    title: 'A Mixer-style deny rule',
    explains: 'access-control denies reviews v3 on its workload labels, which count only because its certificate vouches for them.',
    setup: {
      chain: [{ filter: 'access-control', configuration: json({
        policies: [{ name: 'deny-reviews-v3', action: 'DENY', rules: [{ name: 'v3', when: ['source.labels["app"] == "reviews" && source.labels["version"] == "v3"'] }] }],
      }) }],
      upstreams: [{ name: 'ratings', status: 200, body: '{"ratings":{}}' }],
      request: { method: 'GET', path: '/ratings/0', headers: [], body: '', caller: REVIEWS_V3 },
      burst: { count: 1, intervalMs: 0 },
    },
  },
  {
    id: 'canary',
    title: 'A 1% canary',
    explains: 'header-routing sends 1% of users (sticky on x-user-id) to reviews-v2 and 99% to reviews-v1.',
    setup: {
      chain: [{ filter: 'header-routing', configuration: json({
        echo_header: 'x-route-decision',
        rules: [{ name: 'rollout', sticky_key: { header: 'x-user-id' },
          targets: [{ cluster: 'reviews-v2', weight: 1 }, { cluster: 'reviews-v1', weight: 99 }] }],
      }) }],
      upstreams: [{ name: 'reviews-v1', status: 200, body: 'reviews v1' }, { name: 'reviews-v2', status: 200, body: 'reviews v2' }],
      request: { method: 'GET', path: '/reviews/1', headers: [['x-user-id', 'user-{n}']], body: '' },
      burst: { count: 200, intervalMs: 10 },
    },
  },
  {
    id: 'fault',
    title: 'Fault injection',
    explains: 'header-routing delays requests that carry x-chaos by 1 s on the virtual clock, then aborts them with 503.',
    setup: {
      chain: [{ filter: 'header-routing', configuration: json({
        rules: [{ name: 'chaos', match: { headers: [{ name: 'x-chaos', present: true }] },
          fault: { delay: { percentage: 100, fixed_delay: '1s' }, abort: { percentage: 100, http_status: 503 } },
          targets: [{ cluster: 'reviews-v1' }] }],
      }) }],
      upstreams: [{ name: 'reviews-v1', status: 200, body: 'reviews v1' }],
      request: { method: 'GET', path: '/reviews/1', headers: [['x-chaos', 'yes']], body: '' },
      burst: { count: 5, intervalMs: 100 },
    },
  },
  {
    id: 'telemetry',
    title: "Istio's standard metrics",
    explains: 'telemetry counts each request in istio_requests_total with the caller and this workload as labels, and logs it as JSON.',
    setup: {
      chain: [{ filter: 'telemetry', configuration: json({
        labels: ['reporter', 'source_app', 'source_version', 'destination_app', 'response_code', 'response_flags'],
        access_log: { level: 'info', headers: ['x-request-id'] },
      }) }],
      upstreams: [{ name: 'ratings', status: 200, body: '{"ratings":{}}' }],
      request: { method: 'GET', path: '/ratings/{n}', headers: [], body: '', caller: REVIEWS_V3 },
      burst: { count: 10, intervalMs: 50 },
    },
  },
  {
    id: 'circuit-breaker',
    title: 'A circuit breaker with a fallback',
    explains: 'ratings answers 503; after 3 failures in a row circuit-breaker stops calling it and answers a degraded document.',
    setup: {
      chain: [{ filter: 'circuit-breaker', configuration: json({
        trip: { consecutive_failures: 3 }, open: { duration: '5s' },
        fallback: { local_response: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ratings":{},"degraded":true}' } },
      }) }],
      upstreams: [{ name: 'ratings', status: 503, body: 'upstream down' }],
      request: { method: 'GET', path: '/ratings/0', headers: [], body: '' },
      burst: { count: 10, intervalMs: 100 },
    },
  },
];
