// The peer spec filter, written against @solo-io/proxy-runtime's API so the same source builds
// with that package (AssemblyScript 0.14) and with ours: a request carrying `x-block: true`
// gets a local 403 "blocked\n"; every other response gets the header `x-peer`.
export * from "@solo-io/proxy-runtime/proxy";
import { RootContext, Context, registerRootContext, FilterHeadersStatusValues, GrpcStatusValues, Headers,
  send_local_response, stream_context } from "@solo-io/proxy-runtime";

// Built once, as the Rust and Go peers' static body and empty header list are.
const BLOCKED = String.UTF8.encode("blocked\n");
const NO_HEADERS: Headers = [];

class PeerRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new Peer(context_id, this);
  }
}

class Peer extends Context {
  constructor(context_id: u32, root_context: PeerRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    if (stream_context.headers.request.get("x-block") == "true") {
      send_local_response(403, "", BLOCKED, NO_HEADERS, GrpcStatusValues.Unknown);
      return FilterHeadersStatusValues.StopIteration;
    }
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-peer", "assemblyscript");
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new PeerRoot(context_id); }, "peer");
