// What each filter did to a stream, in words a test or the playground can show: its writes to
// the header maps, a route cache it cleared, the local reply it sent, a VM that failed.
import type { HeaderEdit } from '../vm.js';
import type { FilterContext } from './filter-context.js';
import type { FilterTrace } from './types.js';

const MAPS = ['request headers', 'request trailers', 'response headers', 'response trailers'];

function describe(type: number, edit: HeaderEdit): string {
  const where = MAPS[type] ?? `map ${type}`;
  switch (edit[0]) {
    case 'set': return `${where}: set ${edit[1]}: ${edit[2]}`;
    case 'add': return `${where}: added ${edit[1]}: ${edit[2]}`;
    case 'remove': return `${where}: removed ${edit[1]}`;
    default: return `${where}: replaced them all`;
  }
}

export function filterTrace(filters: FilterContext[]): FilterTrace[] {
  return filters.map((f) => {
    const trace: FilterTrace = { plugin: f.plugin.name, edits: f.edits.map(([type, edit]) => describe(type, edit)), clearedRouteCache: f.clearedRouteCache };
    if (f.replied) trace.replied = f.replied;
    if (f.vm.failed) trace.failed = f.vm.failure;
    return trace;
  });
}
