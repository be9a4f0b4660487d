// wfk run, inspect and envoy-config from the shell: output, JSON, exit codes and errors.
import { execFileSync, spawnSync } from 'node:child_process';
import { compatImage } from '../cli/oci/layout.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DIST_DIR, ROOT } from '../cli/build.js';
import { Host } from '../host-sim/index.js';

const wfk = join(ROOT, 'cli', 'bin', 'wfk.mjs');
const dir = mkdtempSync(join(tmpdir(), 'wfk-cli-'));
const file = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};
const run = (...args: string[]) => spawnSync(process.execPath, [wfk, ...args], { encoding: 'utf8' });

describe('wfk run', () => {
  const deny = file('deny.json', { policies: [{ name: 'deny', action: 'DENY', rules: [{ to: [{ operation: { paths: ['/admin'] } }] }] }] });
  const headers = file('headers.json', { request_headers: { 'x-a': '1' }, response_headers: { 'x-b': '2' } });

  it('runs a request through a chain and shows what changed upstream and downstream', () => {
    const r = run('run', 'access-control', 'add-header', '-c', deny, '-c', headers, '--path', '/x', '-H', 'x-user: me');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('GET /x -> 200, decided by upstream, cluster upstream');
    expect(r.stdout).toContain('filters: access-control passed, add-header passed');
    expect(r.stdout).toContain('upstream  + x-a: 1');
    expect(r.stdout).toContain('response  + x-b: 2');
  });

  it('shows which filter answered, and prints JSON with --json', () => {
    const out = JSON.parse(execFileSync(process.execPath, [wfk, 'run', 'access-control', '-c', deny, '--path', '/admin', '--count', '2', '--json'], { encoding: 'utf8' }));
    expect(out.reports).toHaveLength(2);
    expect(out.reports[0]).toMatchObject({ status: 403, decidedBy: 'access-control (rbac_access_denied_matched_policy[deny])' });
    expect(out.reports[0].filters).toEqual([{ name: 'access-control', decision: 'answered 403 (rbac_access_denied_matched_policy[deny])' }]);
    expect(out.logs.join('\n')).toContain('denied (403) by policy deny');
  });

  it('routes to the cluster header-routing picks, through a cluster_header route as in the printed bootstrap', () => {
    const canary = file('canary.json', { rules: [{ name: 'canary', match: { headers: [{ name: 'x-user', exact: 'alice' }] }, targets: [{ cluster: 'reviews-canary' }] }] });
    const alice = run('run', 'header-routing', '-c', canary, '-H', 'x-user: alice');
    expect(alice.stdout).toContain('GET / -> 200, decided by upstream, cluster reviews-canary');
    const forged = run('run', 'header-routing', '-c', canary, '-H', 'x-route-cluster: reviews-canary');
    expect(forged.stdout).toContain('cluster upstream');
    expect(forged.stdout).toContain('upstream  - x-route-cluster: reviews-canary');
  });

  it('takes requests from a file', () => {
    const requests = file('requests.json', [{ method: 'POST', path: '/a', body: 'x' }, { path: '/admin' }]);
    const out = JSON.parse(execFileSync(process.execPath, [wfk, 'run', 'access-control', '-c', deny, '--request', requests, '--json'], { encoding: 'utf8' }));
    expect(out.reports.map((r: { status: number }) => r.status)).toEqual([200, 403]);
  });

  it('explains what is wrong: an unknown filter, a bad header, a configuration the filter refuses', () => {
    const unknown = run('run', 'no-such-filter');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/"no-such-filter" is neither a \.wasm file nor a filter/);
    const header = run('run', 'add-header', '-H', 'no-colon');
    expect(header.status).toBe(2);
    expect(header.stderr).toContain('header "no-colon" must look like "name: value"');
    const config = run('run', 'add-header', '-c', file('bad.json', { request_headers: { 'X-A': '1' } }));
    expect(config.status).toBe(2);
    expect(config.stderr).toMatch(/Unable to create Wasm plugin add-header: proxy_on_configure returned false.*upper-case/);
    // JSON that is not an object reaches the filter, which refuses it (the deployment facts are not asked).
    for (const filter of ['header-routing', 'telemetry', 'rate-quota']) {
      const notObject = run('run', filter, '-c', file('null.json', 'null'));
      expect(notObject.status, filter).toBe(2);
      expect(notObject.stderr, filter).toMatch(/configuration must be a JSON object, got null/);
    }
    const count = run('run', 'add-header', '--count', '0');
    expect(count.status).toBe(2);
    expect(count.stderr).toContain('--count takes a whole number of at least 1');
  });
});

describe('wfk inspect', () => {
  it('shows the ABI, the producers the build embedded, imports and exports', () => {
    const out = JSON.parse(execFileSync(process.execPath, [wfk, 'inspect', join(DIST_DIR, 'telemetry.wasm'), '--json'], { encoding: 'utf8' }));
    expect(out.abi).toBe('0.2.1');
    expect(Object.keys(out.producers['processed-by'])).toContain('filter:telemetry');
    expect(out.producers.sdk).toHaveProperty('wasm-filter-kit');
    expect(out.exports).toContain('proxy_on_log (i32) -> ()');
    expect(out.imports.some((i: string) => i.startsWith('env.proxy_log '))).toBe(true);
  });

  it('prints valid WAT alone with --wat (it parses back to a valid module), and refuses a file that is not wasm', async () => {
    const wat = run('inspect', join(DIST_DIR, 'add-header.wasm'), '--wat');
    expect(wat.status).toBe(0);
    expect(wat.stdout.startsWith('(module')).toBe(true);
    const { parse } = await import('@bytecodealliance/jco');
    expect(WebAssembly.validate(await parse(wat.stdout) as Uint8Array<ArrayBuffer>)).toBe(true);
    const bad = run('inspect', file('not.wasm', 'hello'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/is not a WebAssembly module/);
  });
});

describe('wfk envoy-config', () => {
  const quota = file('quota.json', { dimensions: { user: { header: 'x-user' } }, quotas: [{ name: 'q', dimensions: ['user'], max_amount: 5, valid_duration: '1s' }] });

  it('prints a bootstrap whose wasm filter mounts the module with its configuration', () => {
    const bootstrap = parseYaml(execFileSync(process.execPath, [wfk, 'envoy-config', 'rate-quota', '--config', quota], { encoding: 'utf8' }));
    const filters = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters;
    // An edge listener: client-sent peer metadata removed, paths normalized before the filters.
    expect(filters.map((f: { name: string }) => f.name)).toEqual(['envoy.filters.http.header_mutation', 'envoy.filters.http.wasm', 'envoy.filters.http.router']);
    const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    expect(hcm).toMatchObject({ normalize_path: true, merge_slashes: true, path_with_escaped_slashes_action: 'UNESCAPE_AND_REDIRECT' });
    const config = filters[1].typed_config.config;
    expect(config.root_id).toBe('rate-quota');
    expect(config.vm_config.code.local.filename).toBe('/etc/envoy/wasm/rate-quota.wasm');
    // The configuration it carries is one the filter accepts.
    const host = new Host();
    host.addPlugin({ module: join(DIST_DIR, 'rate-quota.wasm'), rootId: 'rate-quota', configuration: config.configuration.value });
    host.close();
  });

  it('prints the RequestAuthentication access-control\'s JWT rules need with --istio, or refuses with what to change', () => {
    const policies = [{ name: 'staff', action: 'ALLOW', rules: [{ from: [{ source: { request_principals: ['https://login.example.com/*'] } }] }] }];
    const istio = (configuration: object) => spawnSync(process.execPath, [wfk, 'envoy-config', 'access-control', '--config', file('ac.json', configuration),
      '--istio', '--image', 'registry.example.com/filters/access-control:1'], { encoding: 'utf8' });
    const ok = istio({ jwt: { payload_in_metadata: 'https://login.example.com' }, policies });
    expect(ok.status, ok.stderr).toBe(0);
    const [plugin, authentication] = parseAllDocuments(ok.stdout).map((d) => d.toJS());
    expect(plugin.kind).toBe('WasmPlugin');
    expect(authentication).toMatchObject({ kind: 'RequestAuthentication', spec: { jwtRules: [{ issuer: 'https://login.example.com', jwksUri: 'https://login.example.com/.well-known/jwks.json' }] } });
    const wrongKey = istio({ jwt: { payload_in_metadata: 'jwt_payload' }, policies });
    expect(wrongKey.status).toBe(2);
    expect(wrongKey.stderr).toMatch(/jwt\.payload_in_metadata: Istio stores a verified payload under its issuer; set it to "https:\/\/login\.example\.com"/);
    const noIssuer = istio({ jwt: { payload_in_metadata: 'x' }, policies: [] });
    expect(noIssuer.stderr).toMatch(/no policy names an issuer/);
  });

  it('prints an Istio WasmPlugin with the image digest as sha256, phase, priority and plugin config', () => {
    const plugin = parseYaml(execFileSync(process.execPath, [wfk, 'envoy-config', 'rate-quota', '--config', quota, '--istio',
      '--image', 'registry.example.com/filters/rate-quota:1.0.0', '--selector', 'app=ratings'], { encoding: 'utf8' }));
    expect(plugin.kind).toBe('WasmPlugin');
    expect(plugin.spec.url).toBe('oci://registry.example.com/filters/rate-quota:1.0.0');
    expect(plugin.spec.sha256).toBe(compatImage(readFileSync(join(DIST_DIR, 'rate-quota.wasm'))).digest.slice(7));
    const pinned = parseYaml(execFileSync(process.execPath, [wfk, 'envoy-config', 'rate-quota', '--config', quota, '--istio',
      '--image', `registry.example.com/filters/rate-quota@sha256:${'ab'.repeat(32)}`], { encoding: 'utf8' }));
    expect(pinned.spec.sha256).toBe('ab'.repeat(32));
    expect(plugin.spec).toMatchObject({ phase: 'AUTHZ', priority: 10, pluginName: 'rate-quota', failStrategy: 'FAIL_CLOSE', selector: { matchLabels: { app: 'ratings' } } });
    expect(plugin.spec.pluginConfig.quotas[0].name).toBe('q');
  });

  it('needs an image for --istio and a known filter', () => {
    const noImage = run('envoy-config', 'rate-quota', '--config', quota, '--istio');
    expect(noImage.status).toBe(2);
    expect(noImage.stderr).toContain('--istio needs --image');
    const unknown = run('envoy-config', 'nope', '--config', quota);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown filter "nope"');
  });
});

describe('wfk conventions', () => {
  it('prints its version, and documents its exit codes and required options in --help', () => {
    const version = run('--version');
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    expect(run('--help').stdout).toMatch(/Exit codes: 0 success, 1 the work failed .*, 2 the command line was wrong/);
    expect(run('envoy-config', '--help').stdout).toMatch(/--config <file>\s+the filter's configuration \(JSON\) \(required\)/);
  });

  it('exits 2 for what names nothing (build and run alike), saying what exists and what to do', () => {
    const build = run('build', 'no-such-filter');
    expect(build.status).toBe(2);
    expect(build.stderr).toMatch(/unknown filter "no-such-filter" .*filters are: .*add-header/);
    const missing = run('run', 'add-header', '-c', join(dir, 'absent.json'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/cannot read the configuration .*absent\.json: no such file or folder/);
    expect(missing.stderr).not.toMatch(/ENOENT/);
  });

  it('refuses to print deployments for a configuration the filter itself refuses, with the filter\'s words', () => {
    const bad = file('bad-telemetry.json', { labels: ['not_a_label'] });
    for (const args of [['envoy-config', 'telemetry'], ['stats-tags', 'telemetry'], ['envoy-config', 'telemetry', '--istio', '--image', 'r.example/t:1']]) {
      const r = run(...args, '--config', bad);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/the telemetry filter refuses this configuration: .*labels\[0\]: "not_a_label" is not an Istio label/);
      expect(r.stdout, args.join(' ')).toBe('');
    }
  });

  it('runs a debug build without --root-id, logs each line once, and shows metrics with their labels', () => {
    const debug = run('run', join(DIST_DIR, 'add-header.debug.wasm'), '-c', file('debug.json', { response_headers: { 'x-b': '2' } }));
    expect(debug.status, debug.stderr).toBe(0);
    expect(debug.stdout).toContain('response  + x-b: 2');
    const refused = run('run', 'add-header', '-c', file('upper.json', { request_headers: { 'X-A': '1' } }));
    expect(refused.stderr).not.toMatch(/add-header: add-header/);
    const telemetry = JSON.parse(run('run', 'telemetry', '-c', file('telemetry.json', { labels: ['reporter', 'response_code'] }), '--json').stdout);
    expect(telemetry.metrics).toMatch(/istio_requests_total\{reporter="destination",response_code="200"\} 1/);
    expect(telemetry.metrics).not.toMatch(/reporter=\.=/);
  });
});

describe('YAML for Envoy and Kubernetes (YAML 1.1)', () => {
  it('quotes strings that YAML 1.1 would read as booleans, so a header value "yes" stays a string', () => {
    const config = file('canary-yes.json', { rules: [{ name: 'opt-in', match: { headers: [{ name: 'x-canary', exact: 'yes' }] }, targets: [{ cluster: 'canary' }] }] });
    const istio = run('envoy-config', 'header-routing', '--config', config, '--istio', '--image', 'r.example/hr:1');
    expect(istio.status, istio.stderr).toBe(0);
    const plugin = parseAllDocuments(istio.stdout).map((d) => d.toJS({})).find((d) => d.kind === 'WasmPlugin');
    expect(istio.stdout).toContain('exact: "yes"');
    // As Kubernetes (go-yaml, YAML 1.1) reads it:
    const asKubernetes = parseAllDocuments(istio.stdout, { version: '1.1' }).map((d) => d.toJS({})).find((d) => d.kind === 'WasmPlugin');
    expect(asKubernetes.spec.pluginConfig.rules[0].match.headers[0].exact).toBe('yes');
    expect(plugin.spec.pluginConfig.rules[0].match.headers[0].exact).toBe('yes');
  });
});
