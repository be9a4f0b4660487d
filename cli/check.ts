// wfk check's report: Envoy's load rules (host-sim/load-rules.ts, the ones host-sim refuses
// plugins by) applied to a module, written for a person.
import type { CheckReport } from '../host-sim/load-rules.js';

export { checkModule, type CheckReport, type Finding } from '../host-sim/load-rules.js';

/** The report as text a person reads: what is wrong, where, and what Envoy would say. */
export function formatReport(path: string, report: CheckReport): string {
  const lines: string[] = [];
  const status = report.errors.length === 0 ? 'ok: Envoy would load this module' : `FAILED: Envoy would refuse this module (${report.errors.length} error${report.errors.length === 1 ? '' : 's'})`;
  lines.push(`${path}: ${status}`);
  if (report.abi) lines.push(`  ABI ${report.abi}`);
  for (const f of report.errors) {
    lines.push(`  error [${f.rule}] ${f.message}`);
    if (f.envoySays) lines.push(`        Envoy: "${f.envoySays}"`);
  }
  for (const f of report.warnings) lines.push(`  warning [${f.rule}] ${f.message}`);
  return lines.join('\n');
}
