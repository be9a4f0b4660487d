// When garbage is collected. The SDK runs AssemblyScript's minimal runtime: no write barriers
// (a third less code, and faster) and no collection unless asked. It must be asked only when no
// managed reference lives on the stack alone: after a callback from Envoy has done its work, at
// the outermost level (Envoy calls malloc in the middle of the module's own host calls, never a
// callback). It runs every COLLECT_EVERY callbacks, or once the heap had to grow, so garbage stays
// bounded while its cost is spread over many requests.
const COLLECT_EVERY: u32 = 256;

let depth: u32 = 0;
let callbacks: u32 = 0;
let pagesAtLastCollection: i32 = 0;

/** A callback from the host begins. */
export function enterCallback(): void {
  depth++;
}

/** A callback from the host ends: collect if it is the outermost one and it is time. */
export function leaveCallback(): void {
  if (--depth != 0) return;
  if (++callbacks < COLLECT_EVERY && memory.size() <= pagesAtLastCollection) return;
  __collect();
  callbacks = 0;
  pagesAtLastCollection = memory.size();
}
