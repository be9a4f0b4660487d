// The foreign functions Envoy registers (proxy_call_foreign_function): clear_route_cache,
// declare_property and set_envoy_filter_state; any other name is NotFound, as in Envoy.
import { WasmResult } from './abi.js';
import type { WasmVm } from './vm.js';
import { readProtoFields } from './wire.js';

/** Filter state objects stock Envoy can create from a string (StreamInfo::FilterState::ObjectFactory). */
const WELL_KNOWN_FILTER_STATE = [
  'envoy.network.upstream_server_name', 'envoy.network.application_protocols', 'envoy.network.transport_socket.original_dst_address',
  'envoy.network.upstream_subject_alt_names', 'envoy.tcp_proxy.cluster', 'envoy.string', 'envoy.filters.network.http_connection_manager.local_reply_owner',
];

export class ForeignFunctions {
  /** Filter state keys Envoy has object factories for (set_envoy_filter_state accepts only these). */
  readonly filterStateFactories = new Set<string>(WELL_KNOWN_FILTER_STATE);
  private readonly declaredProperties = new WeakMap<WasmVm, Set<string>>();

  call(vm: WasmVm, name: string, args: Uint8Array): { result: number; data?: Uint8Array } {
    const context = vm.context();
    const stream = context?.kind === 'stream' ? context.stream : undefined;
    switch (name) {
      case 'clear_route_cache':
        stream?.clearRouteCache(true);
        return { result: WasmResult.Ok };
      case 'declare_property': {
        const fields = readProtoFields(args);
        const property = fields.get(1)?.bytes;
        if (!property) return { result: WasmResult.BadArgument };
        const declared = this.declaredProperties.get(vm) ?? new Set<string>();
        this.declaredProperties.set(vm, declared);
        const key = new TextDecoder().decode(property);
        // A property keeps its first declaration: Envoy refuses to redeclare it.
        if (declared.has(key)) return { result: WasmResult.BadArgument };
        declared.add(key);
        return { result: WasmResult.Ok };
      }
      case 'set_envoy_filter_state': {
        if (!stream) return { result: WasmResult.NotFound };
        const fields = readProtoFields(args);
        const path = fields.get(1)?.bytes;
        const value = fields.get(2)?.bytes ?? new Uint8Array(0);
        if (!path) return { result: WasmResult.BadArgument };
        const key = new TextDecoder().decode(path);
        // Envoy creates only objects it has a factory for.
        if (!this.filterStateFactories.has(key)) return { result: WasmResult.NotFound };
        stream.setFilterState(key, value);
        return { result: WasmResult.Ok };
      }
      default:
        return { result: WasmResult.NotFound };
    }
  }
}
