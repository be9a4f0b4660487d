// Every configuration a filter's README or envoy-configs/ shows is real: it validates against
// the filter's JSON Schema and the filter accepts it at configure.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { FILTERS_DIR, ROOT, listFilters } from '../../cli/build.js';
import { Host } from '../../host-sim/index.js';
import { validateBootstrap } from '../../cli/envoy-validate.js';
import { envoyBootstrap } from '../../cli/envoy-config.js';
import { loadDeployment } from '../../cli/deployment.js';
import { filterModule } from '../support/modules.js';

const host = new Host();
afterAll(() => host.close());

function validator(filter: string) {
  const schema = JSON.parse(readFileSync(join(FILTERS_DIR, filter, 'schema.json'), 'utf8'));
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  return ajv.compile(schema);
}

function configures(filter: string, configuration: string): void {
  host.addPlugin({ module: filterModule(filter), rootId: filter, name: `${filter}-doc`, configuration });
}

const documented = listFilters().filter((f) => existsSync(join(FILTERS_DIR, f, 'schema.json')));

describe('filter documentation', () => {
  it('every filter has a README and a schema', () => {
    for (const filter of listFilters()) {
      expect(existsSync(join(FILTERS_DIR, filter, 'README.md')), `${filter}/README.md`).toBe(true);
      expect(existsSync(join(FILTERS_DIR, filter, 'schema.json')), `${filter}/schema.json`).toBe(true);
    }
  });

  for (const filter of documented) {
    it(`${filter}: README examples validate against the schema and configure the filter`, () => {
      const validate = validator(filter);
      const readme = readFileSync(join(FILTERS_DIR, filter, 'README.md'), 'utf8');
      const examples = [...readme.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]);
      expect(examples.length).toBeGreaterThan(0);
      for (const example of examples) {
        const ok = validate(JSON.parse(example));
        expect(ok, JSON.stringify(validate.errors)).toBe(true);
        expect(() => configures(filter, example)).not.toThrow();
      }
    });
  }
});

describe('Istio WasmPlugin manifests', () => {
  const manifests = readdirSync(join(ROOT, 'envoy-configs', 'istio')).filter((f) => f.endsWith('.yaml'));

  it('there is one per filter', () => {
    expect(manifests.map((f) => f.replace('.yaml', '')).sort()).toEqual(listFilters());
  });

  for (const file of manifests) {
    it(`istio/${file}: a WasmPlugin whose pluginConfig the filter accepts`, () => {
      const plugin = parseYaml(readFileSync(join(ROOT, 'envoy-configs', 'istio', file), 'utf8'));
      expect(plugin.apiVersion).toBe('extensions.istio.io/v1alpha1');
      expect(plugin.kind).toBe('WasmPlugin');
      const spec = plugin.spec;
      expect(spec.pluginName).toBe(file.replace('.yaml', ''));
      expect(spec.url).toMatch(/^oci:\/\//);
      expect(['AUTHN', 'AUTHZ', 'STATS', 'UNSPECIFIED_PHASE']).toContain(spec.phase);
      expect(['FAIL_CLOSE', 'FAIL_OPEN']).toContain(spec.failStrategy);
      const validate = validator(spec.pluginName);
      expect(validate(spec.pluginConfig), JSON.stringify(validate.errors)).toBe(true);
      expect(() => configures(spec.pluginName, JSON.stringify(spec.pluginConfig))).not.toThrow();
    });
  }
});

describe('Envoy API validation', () => {
  it('reports unknown fields, wrong types, bad enums and unresolvable typed configs with their path', () => {
    const bootstrap = parseYaml(readFileSync(join(ROOT, 'envoy-configs', 'rate-quota.yaml'), 'utf8'));
    const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    hcm.http_filters[1].typed_config.config.rootid = 'x';
    hcm.http_filters[2].typed_config['@type'] = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Ruoter';
    bootstrap.static_resources.clusters[0].type = 'MAGIC';
    bootstrap.static_resources.clusters[0].connect_timeout = 1;
    const wasm = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters';
    expect(validateBootstrap(bootstrap)).toEqual([
      `${wasm}[1].typed_config.config.rootid: unknown field in envoy.extensions.wasm.v3.PluginConfig`,
      `${wasm}[2].typed_config.@type: cannot resolve type.googleapis.com/envoy.extensions.filters.http.router.v3.Ruoter: no such message in Envoy's API`,
      'static_resources.clusters[0].type: "MAGIC" is not one of STATIC, STRICT_DNS, LOGICAL_DNS, EDS, ORIGINAL_DST',
      'static_resources.clusters[0].connect_timeout: expected a duration such as "1s", got 1',
    ]);
  });

  it('accepts what wfk envoy-config prints for every filter', async () => {
    const configurations: Record<string, object> = {
      'add-header': { request_headers: { 'x-a': '1' } },
      'access-control': { policies: [] },
      'header-routing': { rules: [{ name: 'canary', targets: [{ cluster: 'reviews-v1', weight: 90 }, { cluster: 'reviews-canary', weight: 10 }] }] },
      'rate-quota': { mode: 'global', dimensions: { u: { header: 'x-user' } }, quotas: [{ name: 'q', dimensions: ['u'], max_amount: 1, valid_duration: '1s' }],
        rate_limit_service: { cluster: 'ratelimit', domain: 'd' } },
      telemetry: { labels: ['reporter'] },
      'circuit-breaker': { fallback: { cluster: 'reviews-fallback' } },
    };
    for (const filter of listFilters()) {
      const bootstrap = envoyBootstrap({ filter, configuration: configurations[filter] as Record<string, unknown>, deployment: await loadDeployment(filter) });
      expect(validateBootstrap(bootstrap), filter).toEqual([]);
    }
  });

  it('puts jwt_authn in front of access-control when it reads JWT claims, with the issuer its policies name', async () => {
    const configuration = { jwt: { payload_in_metadata: 'claims' },
      policies: [{ name: 'staff', action: 'ALLOW', rules: [{ from: [{ source: { request_principals: ['https://login.example.com/*'] } }] }] }] };
    const bootstrap = envoyBootstrap({ filter: 'access-control', configuration, deployment: await loadDeployment('access-control') }) as any;
    expect(validateBootstrap(bootstrap)).toEqual([]);
    const filters = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters;
    // At the edge: client-sent peer metadata removed first, then jwt_authn, then the filter.
    expect(filters.map((f: { name: string }) => f.name)).toEqual(['envoy.filters.http.header_mutation', 'envoy.filters.http.jwt_authn', 'envoy.filters.http.wasm', 'envoy.filters.http.router']);
    const provider = filters[1].typed_config.providers.issuer;
    expect(provider).toMatchObject({ issuer: 'https://login.example.com', payload_in_metadata: 'claims' });
    expect(provider.remote_jwks.http_uri.cluster).toBe('jwks');
    expect(bootstrap.static_resources.clusters.map((c: { name: string }) => c.name)).toEqual(['backend', 'jwks']);
  });

  it('gives header-routing a cluster_header route and a cluster for every target', async () => {
    const bootstrap = envoyBootstrap({ filter: 'header-routing', configuration: { cluster_header: 'x-pick',
      rules: [{ name: 'a', targets: [{ cluster: 'reviews-v1', weight: 50 }, { cluster: 'reviews-v2', weight: 50 }] }] }, deployment: await loadDeployment('header-routing') }) as any;
    const hcm = bootstrap.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    expect(hcm.route_config.virtual_hosts[0].routes[0]).toEqual({ match: { prefix: '/', headers: [{ name: 'x-pick', present_match: true }] }, route: { cluster_header: 'x-pick' } });
    expect(bootstrap.static_resources.clusters.map((c: { name: string }) => c.name)).toEqual(['backend', 'reviews-v1', 'reviews-v2']);
  });
});

describe('envoy-configs', () => {
  const files = readdirSync(join(ROOT, 'envoy-configs')).filter((f) => f.endsWith('.yaml'));

  interface Stanza { name: string; root_id: string; configuration: string; runtime: string; filename: string; fail_open?: unknown }

  /** Every envoy.filters.http.wasm stanza in a parsed bootstrap. */
  function wasmFilters(node: unknown, out: Stanza[] = []) {
    if (Array.isArray(node)) for (const item of node) wasmFilters(item, out);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (o.name === 'envoy.filters.http.wasm') {
        const config = (o.typed_config as { config: { name: string; root_id: string; fail_open?: unknown; configuration: { value: string };
          vm_config: { runtime: string; code: { local: { filename: string } } } } }).config;
        out.push({ name: config.name, root_id: config.root_id, configuration: config.configuration.value, runtime: config.vm_config.runtime,
          filename: config.vm_config.code.local.filename, fail_open: config.fail_open });
      }
      for (const v of Object.values(o)) wasmFilters(v, out);
    }
    return out;
  }

  for (const file of files) {
    it(`${file}: parses strictly against Envoy's v3 Bootstrap`, () => {
      expect(validateBootstrap(parseYaml(readFileSync(join(ROOT, 'envoy-configs', file), 'utf8')))).toEqual([]);
    });

    it(`${file}: every wasm filter's configuration validates and configures the filter`, async () => {
      const bootstrap = parseYaml(readFileSync(join(ROOT, 'envoy-configs', file), 'utf8'));
      const stanzas = wasmFilters(bootstrap);
      expect(stanzas.length).toBeGreaterThan(0);
      // The bootstrap's stats_tags are the ones its filters' configurations need, in chain order.
      const tags: unknown[] = [];
      for (const stanza of stanzas) tags.push(...(await loadDeployment(stanza.root_id)).statsTags?.(JSON.parse(stanza.configuration)) ?? []);
      expect(bootstrap.stats_config?.stats_tags ?? []).toEqual(tags);
      for (const stanza of stanzas) {
        expect(documented, `${file} mounts a filter the build produces`).toContain(stanza.root_id);
        expect(stanza.name).toBe(stanza.root_id);
        expect(stanza.runtime).toBe('envoy.wasm.runtime.v8');
        expect(stanza.filename.endsWith(`/${stanza.root_id}.wasm`), `${stanza.filename} is the build's ${stanza.root_id}.wasm`).toBe(true);
        expect(typeof stanza.fail_open).toBe('boolean');
        const validate = validator(stanza.root_id);
        expect(validate(JSON.parse(stanza.configuration)), JSON.stringify(validate.errors)).toBe(true);
        expect(() => configures(stanza.root_id, stanza.configuration)).not.toThrow();
      }
    });
  }
});
