// Every configuration a filter's README or envoy-configs/ shows is real: it validates against
// the filter's JSON Schema and the filter accepts it at configure.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { FILTERS_DIR, ROOT, listFilters } from '../../cli/build.js';
import { Host } from '../../host-sim/index.js';
import { statsTagsFor, telemetryLabels } from '../../cli/stats-tags.js';
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

describe('envoy-configs', () => {
  const files = readdirSync(join(ROOT, 'envoy-configs')).filter((f) => f.endsWith('.yaml'));

  /** Every envoy.filters.http.wasm stanza in a parsed bootstrap. */
  function wasmFilters(node: unknown, out: { root_id: string; configuration: string }[] = []) {
    if (Array.isArray(node)) for (const item of node) wasmFilters(item, out);
    else if (node && typeof node === 'object') {
      const o = node as Record<string, unknown>;
      if (o.name === 'envoy.filters.http.wasm') {
        const config = (o.typed_config as { config: { root_id: string; configuration: { value: string } } }).config;
        out.push({ root_id: config.root_id, configuration: config.configuration.value });
      }
      for (const v of Object.values(o)) wasmFilters(v, out);
    }
    return out;
  }

  for (const file of files) {
    it(`${file}: every wasm filter's configuration validates and configures the filter`, () => {
      const bootstrap = parseYaml(readFileSync(join(ROOT, 'envoy-configs', file), 'utf8'));
      const stanzas = wasmFilters(bootstrap);
      expect(stanzas.length).toBeGreaterThan(0);
      for (const stanza of stanzas) {
        expect(documented, `${file} mounts a filter the build produces`).toContain(stanza.root_id);
        const validate = validator(stanza.root_id);
        expect(validate(JSON.parse(stanza.configuration)), JSON.stringify(validate.errors)).toBe(true);
        expect(() => configures(stanza.root_id, stanza.configuration)).not.toThrow();
        if (stanza.root_id === 'telemetry') {
          // The bootstrap's stats_tags must be the ones the telemetry configuration needs.
          expect(bootstrap.stats_config?.stats_tags).toEqual(statsTagsFor(telemetryLabels(JSON.parse(stanza.configuration))));
        }
      }
    });
  }
});
