// The SDK's side of context ids: which root context each plugin's root_id gets, and the context
// object behind every id Envoy passes to a callback.
import { BaseContext } from "../base-context";
import { Context, RootContext, RootContextFactory } from "../context";
import { LogLevelValues } from "../enums";
import { log } from "../log";

const rootFactories = new Map<string, RootContextFactory>();
const contexts = new Map<u32, BaseContext>();

// Envoy calls a stream's callbacks one after another (headers, body, done, log, delete): the
// context of the last lookup answers most lookups without hashing.
let lastId: u32 = 0;
let lastContext: BaseContext | null = null;

/**
 * Makes `factory` create the root context for plugins whose Envoy `root_id` is `name`.
 * A module may register several; with one registered, a plugin without root_id uses it.
 */
export function registerRootContext(factory: RootContextFactory, name: string): void {
  rootFactories.set(name, factory);
}

/** A root context that rejects its configuration: used when no factory matches the root_id. */
class UnregisteredRootContext extends RootContext {
  constructor(context_id: u32, private rootId: string) { super(context_id); }
  onConfigure(configuration_size: u32): bool {
    log(LogLevelValues.critical, "no root context registered for root_id \"" + this.rootId + "\"; registered: " +
      rootFactories.keys().join(", "));
    return false;
  }
}

export function createRootContext(context_id: u32, root_id: string): void {
  let root: RootContext;
  if (rootFactories.has(root_id)) {
    root = rootFactories.get(root_id)(context_id);
  } else if (root_id.length == 0 && rootFactories.size == 1) {
    root = rootFactories.values()[0](context_id);
  } else {
    root = new UnregisteredRootContext(context_id, root_id);
  }
  root.context_id = context_id;
  remember(context_id, root);
}

export function createStreamContext(context_id: u32, root_context_id: u32): void {
  const root = getRootContext(root_context_id);
  const context = root.createContext(context_id);
  context.context_id = context_id;
  remember(context_id, context);
}

function remember(context_id: u32, context: BaseContext): void {
  contexts.set(context_id, context);
  lastId = context_id;
  lastContext = context;
}

export function getBaseContext(context_id: u32): BaseContext {
  const last = lastContext;
  if (context_id == lastId && last !== null) return last;
  const context = contexts.get(context_id);
  lastId = context_id;
  lastContext = context;
  return context;
}

export function getRootContext(context_id: u32): RootContext {
  return changetype<RootContext>(getBaseContext(context_id));
}

export function getContext(context_id: u32): Context {
  return changetype<Context>(getBaseContext(context_id));
}

export function deleteContext(context_id: u32): void {
  contexts.delete(context_id);
  if (context_id == lastId) lastContext = null;
}
