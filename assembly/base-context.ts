// What every context shares: the id the host gave it, and acting as it.
import { proxy_set_effective_context } from "./internal/imports";
import { WasmResultValues } from "./enums";
import { continue_request, continue_response } from "./stream";

/** What RootContext and Context share: an id the host assigned. */
export abstract class BaseContext {
  context_id: u32;

  constructor(context_id: u32) {
    this.context_id = context_id;
  }

  /** Makes later host calls act on this context (e.g. from a callout response on another context). */
  setEffectiveContext(): WasmResultValues {
    return <WasmResultValues>proxy_set_effective_context(this.context_id);
  }

  continueRequest(): WasmResultValues { return continue_request(); }
  continueResponse(): WasmResultValues { return continue_response(); }

  /** The host is done with this context; return false to finish later with `done()` (root only). */
  onDone(): bool { return true; }

  /** The context is gone; no more callbacks will come for it. */
  onDelete(): void {}
}
