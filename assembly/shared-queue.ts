import {
  proxy_dequeue_shared_queue, proxy_enqueue_shared_queue, proxy_register_shared_queue, proxy_resolve_shared_queue,
} from "./internal/imports";
import { OUT_PTR, OUT_SIZE, OUT_WORD, resetReturned, takeReturnedBytes } from "./internal/memory";
import { encode1, encode2, aPtr, aLen, bPtr, bLen } from "./internal/utf8";
import { WasmResultValues } from "./enums";

// Shared queues carry messages between VMs: the VM that registers a queue is woken through
// RootContext.onQueueReady when another VM (any vm_id) enqueues into it.

export class QueueTokenResult {
  constructor(public result: WasmResultValues, public token: u32) {}
}

/** Registers (or re-registers) the queue `name` of this VM's vm_id. */
export function registerSharedQueue(name: string): QueueTokenResult {
  encode1(name);
  store<u32>(OUT_WORD, 0);
  const result = <WasmResultValues>proxy_register_shared_queue(aPtr, aLen, OUT_WORD);
  return new QueueTokenResult(result, load<u32>(OUT_WORD));
}

/** Finds the queue `name` registered by a VM with `vmId`; NotFound if nobody registered it. */
export function resolveSharedQueue(vmId: string, name: string): QueueTokenResult {
  encode2(vmId, name);
  store<u32>(OUT_WORD, 0);
  const result = <WasmResultValues>proxy_resolve_shared_queue(aPtr, aLen, bPtr, bLen, OUT_WORD);
  return new QueueTokenResult(result, load<u32>(OUT_WORD));
}

export class DequeueResult {
  constructor(public result: WasmResultValues, public data: ArrayBuffer | null) {}
}

/** Takes the oldest message: Ok with data, Empty, or NotFound for an unknown token. */
export function dequeueSharedQueue(token: u32): DequeueResult {
  resetReturned();
  const result = <WasmResultValues>proxy_dequeue_shared_queue(token, OUT_PTR, OUT_SIZE);
  if (result != WasmResultValues.Ok) return new DequeueResult(result, null);
  return new DequeueResult(result, takeReturnedBytes());
}

export function enqueueSharedQueue(token: u32, data: ArrayBuffer): WasmResultValues {
  return <WasmResultValues>proxy_enqueue_shared_queue(token, changetype<usize>(data), data.byteLength);
}
