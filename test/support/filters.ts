import { expect, it } from 'vitest';
import { Host, PluginLoadError } from '../../host-sim/index.js';
import { filterModule } from './modules.js';
import { closeAfterTest } from './hosts.js';

/**
 * One test per case: loading `filter` with the configuration fails at configure, and the error
 * names what `message` expects (the field, or the position in an expression).
 */
export function rejectsConfigurations(filter: string, cases: [string, unknown, RegExp][]): void {
  for (const [what, configuration, message] of cases) {
    it(`rejects ${what}`, () => {
      const host = new Host();
      closeAfterTest(host);
      const load = () => host.addPlugin({ module: filterModule(filter), rootId: filter, configuration: configuration as object });
      expect(load).toThrow(PluginLoadError);
      expect(load).toThrow(message);
    });
  }
}
