// __NAME__: answers requests under a blocked path with 403, and adds a response header to
// everything else. Paths are matched as Envoy normalizes them, so /%61dmin or //admin is /admin. Edit it, then `npm test`; the configuration is filters/__NAME__/schema.json.
export * from "wasm-filter-kit/assembly/proxy";
import {
  ConfigReader, Context, FilterHeadersStatusValues, headerNameProblem, LogLevelValues, RootContext, log, normalizePath,
  registerRootContext, send_local_response, stream_context, urlPathOf,
} from "wasm-filter-kit/assembly";

class Settings {
  blockedPrefix: string = "/admin";
  headerName: string = "x-filtered-by";
  headerValue: string = "__NAME__";
}

class Root extends RootContext {
  settings: Settings = new Settings();

  // Envoy refuses the configuration (and keeps the one it had) when this returns false; the
  // log line says which field is wrong.
  onConfigure(configuration_size: u32): bool {
    const reader = new ConfigReader();
    const settings = new Settings();
    const config = reader.parse(this.getConfiguration());
    if (config !== null && reader.object(config, "", ["blocked_prefix", "header"])) {
      const prefix = reader.string(config, "blocked_prefix", "", settings.blockedPrefix)!;
      if (reader.ok && !prefix.startsWith("/")) reader.fail("blocked_prefix", "must start with /");
      settings.blockedPrefix = prefix;
      const header = config.get("header");
      if (header !== null && reader.object(header, "header", ["name", "value"])) {
        const name = reader.string(header, "name", "header");
        const value = reader.string(header, "value", "header");
        if (name !== null && headerNameProblem(name).length > 0) reader.fail("header.name", headerNameProblem(name));
        if (name !== null) settings.headerName = name;
        if (value !== null) settings.headerValue = value;
      }
    }
    if (!reader.ok) {
      log(LogLevelValues.error, "invalid configuration: " + reader.error);
      return false;
    }
    this.settings = settings;
    return true;
  }

  createContext(context_id: u32): Context {
    return new Filter(context_id, this);
  }
}

/** `path` is `prefix` or below it (/admin, /admin/users; not /administrator). */
function isUnder(path: string, prefix: string): bool {
  if (path == prefix) return true;
  return path.startsWith(prefix.endsWith("/") ? prefix : prefix + "/");
}

class Filter extends Context {
  constructor(context_id: u32, readonly root: Root) {
    super(context_id, root);
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const normalized = normalizePath(stream_context.headers.request.get(":path"));
    // A path that cannot be normalized cannot be matched safely: it is blocked too.
    if (!normalized.ok || isUnder(urlPathOf(normalized.path), this.root.settings.blockedPrefix)) {
      send_local_response(403, "blocked_by___NAME__", String.UTF8.encode("blocked\n"), []);
      return FilterHeadersStatusValues.StopIteration;
    }
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add(this.root.settings.headerName, this.root.settings.headerValue);
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => new Root(context_id), "__NAME__");
