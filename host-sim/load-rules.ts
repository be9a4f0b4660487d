// Envoy's load rules: everything that makes it refuse a Proxy-Wasm module before any callback
// runs, checked against the host contract. host-sim refuses a plugin by these rules and
// `wfk check` reports them, so the two cannot drift apart.
import { detectAbi, expectedExport, formatWasmType, hostImport, HOST_IMPORTS, type AbiVersion } from './contract.js';
import { parseModule, reachableImports, sameType, WasmFormatError, type FuncType, type ImportEntry, type ModuleInfo } from './wasm/binary.js';

export interface Finding {
  /** Which rule: format, abi-marker, import, global-import, wasi-tier, allocator, memory, export-signature, start-section. */
  rule: string;
  /** The import or export concerned, when there is one. */
  subject?: string;
  message: string;
  /** What Envoy logs when it refuses the module for this reason. */
  envoySays?: string;
}

export interface CheckReport {
  abi?: AbiVersion;
  /** In the order Envoy meets them, so the first is the one Envoy reports. */
  errors: Finding[];
  warnings: Finding[];
  module?: ModuleInfo;
}

const ALLOCATOR_TYPE: FuncType = { params: ['i32'], results: ['i32'] };

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
  report.abi = detectAbi(info.exports);
  // Envoy's order: ABI detection, link, then the exports it looks up, then start.
  checkAbiMarker(info, report);
  for (const imp of info.imports) checkImport(imp, report);
  checkAllocator(info, report);
  checkMemory(info, report);
  checkExportSignatures(info, report);
  checkStartSection(bytes, info, report);
  return report;
}

/** The reason Envoy gives for refusing the module, with our detail; undefined if it loads. */
export function refusal(report: CheckReport): string | undefined {
  const first = report.errors[0];
  if (!first) return undefined;
  if (!first.envoySays) return first.message;
  return first.rule === 'format' ? `${first.envoySays}: ${first.message}` : `${first.envoySays} (${first.message})`;
}

function checkAbiMarker(info: ModuleInfo, report: CheckReport): void {
  if (!report.abi) {
    report.errors.push({ rule: 'abi-marker', message: 'no function export named proxy_abi_version_0_1_0, proxy_abi_version_0_2_0 or proxy_abi_version_0_2_1',
      envoySays: 'Missing or unknown Proxy-Wasm ABI version' });
  }
  const markers = info.exports.filter((e) => e.kind === 'func' && e.name.startsWith('proxy_abi_version_'));
  if (markers.length > 1) {
    report.warnings.push({ rule: 'abi-marker', message: `several ABI markers (${markers.map((m) => m.name).join(', ')}); Envoy uses the first` });
  }
}

function checkImport(imp: ImportEntry, report: CheckReport): void {
  const subject = `${imp.module}.${imp.name}`;
  const missing = `Failed to load Wasm module due to a missing import: ${subject}`;
  if (imp.kind === 'memory') return; // V8, Envoy's default runtime, creates it (see checkMemory)
  if (imp.kind !== 'func') {
    report.errors.push({ rule: 'global-import', subject, message: `imports the ${imp.kind} ${subject}; Envoy provides only functions`, envoySays: missing });
    return;
  }
  if (!report.abi) return;
  const host = hostImport(report.abi, imp.module, imp.name);
  if (!host) {
    const otherAbi = HOST_IMPORTS.find((h) => h.module === imp.module && h.name === imp.name);
    const hint = otherAbi ? ` (the host provides it only for ABI ${otherAbi.abi.join(', ')}, the module declares ${report.abi})` : '';
    report.errors.push({ rule: 'import', subject, message: `Envoy provides no ${subject}${hint}`, envoySays: missing });
    return;
  }
  if (!sameType(imp.type, host.type)) {
    report.errors.push({ rule: 'import', subject, message: `${subject} is imported as ${formatWasmType(imp.type!)} but the host provides ${formatWasmType(host.type)}`,
      envoySays: `Failed to load Wasm module due to an import type mismatch: ${subject}, want: ${formatWasmType(imp.type!)}, but host exports: ${formatWasmType(host.type)}` });
    return;
  }
  if (host.tier === 'T2' || host.tier === 'T3') {
    report.warnings.push({ rule: 'wasi-tier', subject,
      message: `${subject} is WASI tier ${host.tier}: only Envoy releases from ${host.tier === 'T2' ? 'early 2026' : 'mid 2026'} provide it; older ones refuse the module` });
  }
}

function checkAllocator(info: ModuleInfo, report: CheckReport): void {
  const allocator = info.exports.find((e) => e.kind === 'func' && e.name === 'malloc') ??
    info.exports.find((e) => e.kind === 'func' && e.name === 'proxy_on_memory_allocate');
  if (!allocator) {
    report.errors.push({ rule: 'allocator', message: 'exports neither malloc nor proxy_on_memory_allocate', envoySays: 'Wasm module is missing malloc function.' });
  } else if (!sameType(allocator.type, ALLOCATOR_TYPE)) {
    report.errors.push({ rule: 'allocator', subject: allocator.name, message: `${allocator.name} must be i32(i32), is ${formatWasmType(allocator.type!)}`,
      envoySays: `Bad function signature for: ${allocator.name}` });
  }
}

function checkMemory(info: ModuleInfo, report: CheckReport): void {
  const exported = info.exports.some((e) => e.kind === 'memory');
  const imported = info.imports.some((i) => i.kind === 'memory');
  if (!exported && !imported) {
    report.errors.push({ rule: 'memory', message: 'the module has no exported memory', envoySays: 'Failed to load Wasm module: no memory' });
  } else if (!exported) {
    report.warnings.push({ rule: 'memory', message: 'the memory is imported, not exported: only the V8 and WAMR runtimes can provide it' });
  }
}

function checkExportSignatures(info: ModuleInfo, report: CheckReport): void {
  if (!report.abi) return;
  for (const exp of info.exports) {
    if (exp.kind !== 'func') continue;
    const expected = expectedExport(report.abi, exp.name);
    if (expected?.type && !sameType(exp.type, expected.type)) {
      report.errors.push({ rule: 'export-signature', subject: exp.name,
        message: `${exp.name} is exported as ${formatWasmType(exp.type!)}, Envoy calls it as ${formatWasmType(expected.type)} under ABI ${report.abi}`,
        envoySays: `Bad function signature for: ${exp.name}` });
    }
  }
}

/**
 * A start section runs while Envoy instantiates the module, with no context: a host call there
 * fails the VM. Which calls it makes is known only by running it (host-sim does, as Envoy does),
 * so code that can merely reach the host is a warning: proxy-runtime's start section reaches
 * its abort path's imports and loads fine.
 */
function checkStartSection(bytes: Uint8Array, info: ModuleInfo, report: CheckReport): void {
  if (info.start === undefined) return;
  const names = [...new Set(reachableImports(bytes, info, info.start).map((i) => `${i.module}.${i.name}`))];
  if (names.length === 0) return;
  report.warnings.push({ rule: 'start-section', subject: names.join(', '),
    message: `the start section can call the host (${names.join(', ')}) while Envoy instantiates the module, when no context exists; a call there fails the VM ("Wasm VM failed: start function trapped"); build with --exportStart _initialize` });
}
