// The names @solo-io/proxy-runtime 0.1.8 gives to what the SDK offers under its own names, so
// filters written for that package port by changing only their imports. A name that only
// repeats another lives here; names that are the SDK's own (send_local_response,
// get_buffer_bytes, stream_context, ...) stay with their implementation.
import { WasmResultValues, HeaderMapTypeValues } from "./enums";
import { getHeaderMapByteSize, HeaderMap } from "./headers";
import { proxy_done, proxy_set_effective_context as setEffective } from "./internal/imports";
import { getSharedData, setSharedData, SharedDataResult } from "./shared-data";
import {
  dequeueSharedQueue, DequeueResult, enqueueSharedQueue, QueueTokenResult, registerSharedQueue, resolveSharedQueue,
} from "./shared-queue";

/** A header map handle. */
export type HeaderStreamManipulator = HeaderMap;

export function get_header_map_size(map: HeaderMapTypeValues): usize { return getHeaderMapByteSize(map); }

/** With the signatures that package meant to have (its own took and returned other types). */
export function get_shared_data(key: string): SharedDataResult { return getSharedData(key); }
export function set_shared_data(key: string, value: ArrayBuffer, cas: u32 = 0): WasmResultValues { return setSharedData(key, value, cas); }

export function register_shared_queue(name: string): QueueTokenResult { return registerSharedQueue(name); }
export function resolve_shared_queue(vm_id: string, name: string): QueueTokenResult { return resolveSharedQueue(vm_id, name); }
export function dequeue_shared_queue(token: u32): DequeueResult { return dequeueSharedQueue(token); }
export function enqueue_shared_queue(token: u32, data: ArrayBuffer): WasmResultValues { return enqueueSharedQueue(token, data); }

/** Makes later host calls act on `context_id`. */
export function proxy_set_effective_context(context_id: u32): WasmResultValues { return <WasmResultValues>setEffective(context_id); }

/** Tells the host that a root context which deferred its onDone has finished. */
export function done(): WasmResultValues { return <WasmResultValues>proxy_done(); }
