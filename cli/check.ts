// The module check: everything that makes Envoy refuse a Proxy-Wasm module at load time,
// verified against the host contract without an Envoy binary.
import { detectAbi, expectedExport, formatWasmType, hostImport, HOST_IMPORTS, type AbiVersion } from '../host-sim/contract.js';
import { parseModule, reachableImports, sameType, WasmFormatError, type ModuleInfo } from '../host-sim/wasm/binary.js';

export interface Finding {
  /** Which rule: abi-marker, allocator, memory, import, wasi-tier, global-import, export-signature, start-section. */
  rule: string;
  /** The import or export concerned, when there is one. */
  subject?: string;
  message: string;
  /** What Envoy logs when it refuses the module for this reason. */
  envoySays?: string;
}

export interface CheckReport {
  abi?: AbiVersion;
  errors: Finding[];
  warnings: Finding[];
  module?: ModuleInfo;
}

/** Checks a module's bytes against Envoy's host; `errors` empty means Envoy would load it. */
export function checkModule(bytes: Uint8Array): CheckReport {
  const report: CheckReport = { errors: [], warnings: [] };
  let info: ModuleInfo;
  try {
    info = parseModule(bytes);
  } catch (e) {
    const message = e instanceof WasmFormatError ? e.message : String(e);
    report.errors.push({ rule: 'format', message, envoySays: 'Failed to load Wasm code' });
    return report;
  }
  report.module = info;
  const error = (f: Finding) => report.errors.push(f);
  const warn = (f: Finding) => report.warnings.push(f);

  const abi = detectAbi(info.exports);
  report.abi = abi;
  if (!abi) {
    error({ rule: 'abi-marker', message: 'no function export named proxy_abi_version_0_1_0, proxy_abi_version_0_2_0 or proxy_abi_version_0_2_1',
      envoySays: 'Missing or unknown Proxy-Wasm ABI version' });
  }
  const markers = info.exports.filter((e) => e.kind === 'func' && e.name.startsWith('proxy_abi_version_'));
  if (markers.length > 1) {
    warn({ rule: 'abi-marker', message: `several ABI markers (${markers.map((m) => m.name).join(', ')}); Envoy uses the first` });
  }

  const allocator = info.exports.find((e) => e.kind === 'func' && e.name === 'malloc') ??
    info.exports.find((e) => e.kind === 'func' && e.name === 'proxy_on_memory_allocate');
  if (!allocator) {
    error({ rule: 'allocator', message: 'exports neither malloc nor proxy_on_memory_allocate',
      envoySays: 'Wasm module is missing malloc function.' });
  } else if (!sameType(allocator.type, { params: ['i32'], results: ['i32'] })) {
    error({ rule: 'allocator', subject: allocator.name, message: `${allocator.name} must be i32(i32), is ${formatWasmType(allocator.type!)}`,
      envoySays: `Bad function signature for: ${allocator.name}` });
  }

  const exportedMemory = info.exports.some((e) => e.kind === 'memory');
  const importedMemory = info.imports.some((i) => i.kind === 'memory');
  if (!exportedMemory && !importedMemory) {
    error({ rule: 'memory', message: 'the module has no exported memory', envoySays: 'Failed to load Wasm module: no memory' });
  } else if (!exportedMemory) {
    warn({ rule: 'memory', message: 'the memory is imported, not exported: only the V8 and WAMR runtimes can provide it' });
  }

  for (const imp of info.imports) {
    const subject = `${imp.module}.${imp.name}`;
    if (imp.kind === 'global') {
      error({ rule: 'global-import', subject, message: `imports the global ${subject}; Envoy provides no globals`,
        envoySays: `Failed to load Wasm module due to a missing import: ${subject}` });
      continue;
    }
    if (imp.kind !== 'func') continue;
    if (!abi) continue;
    const host = hostImport(abi, imp.module, imp.name);
    if (!host) {
      const otherAbi = HOST_IMPORTS.find((h) => h.module === imp.module && h.name === imp.name);
      const hint = otherAbi ? ` (the host provides it only for ABI ${otherAbi.abi.join(', ')}, the module declares ${abi})` : '';
      error({ rule: 'import', subject, message: `Envoy provides no ${subject}${hint}`,
        envoySays: `Failed to load Wasm module due to a missing import: ${subject}` });
      continue;
    }
    if (!sameType(imp.type, host.type)) {
      error({ rule: 'import', subject, message: `${subject} is imported as ${formatWasmType(imp.type!)} but the host provides ${formatWasmType(host.type)}`,
        envoySays: `Failed to load Wasm module due to an import type mismatch: ${subject}, want: ${formatWasmType(imp.type!)}, but host exports: ${formatWasmType(host.type)}` });
      continue;
    }
    if (host.tier === 'T2' || host.tier === 'T3') {
      warn({ rule: 'wasi-tier', subject, message: `${subject} is WASI tier ${host.tier}: only Envoy releases from ${host.tier === 'T2' ? 'early 2026' : 'mid 2026'} provide it; older ones refuse the module` });
    }
  }

  if (abi) {
    for (const exp of info.exports) {
      if (exp.kind !== 'func') continue;
      const expected = expectedExport(abi, exp.name);
      if (expected && expected.type && !sameType(exp.type, expected.type)) {
        error({ rule: 'export-signature', subject: exp.name,
          message: `${exp.name} is exported as ${formatWasmType(exp.type!)}, Envoy calls it as ${formatWasmType(expected.type)} under ABI ${abi}`,
          envoySays: `Bad function signature for: ${exp.name}` });
      }
    }
  }

  if (info.start !== undefined) {
    const reached = reachableImports(bytes, info, info.start);
    if (reached.length > 0) {
      const names = [...new Set(reached.map((i) => `${i.module}.${i.name}`))];
      error({ rule: 'start-section', subject: names.join(', '),
        message: `the start section calls the host (${names.join(', ')}) while Envoy instantiates the module, when no context exists; build with --exportStart _initialize`,
        envoySays: 'Wasm VM failed: start function trapped' });
    }
  }
  return report;
}

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
