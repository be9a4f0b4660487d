// add-header: adds configured headers to requests (before they go upstream) and responses.
export * from "../../assembly/proxy";
import {
  Context, FilterHeadersStatusValues, JsonValue, headerNameProblem, headerValueProblem, LogLevelValues, RootContext, log, parseJson,
  registerRootContext, stream_context,
} from "../../assembly";

class HeaderList {
  names: string[] = [];
  values: string[] = [];
}

/** Reads `config[field]`, an object of header name to string value, into `out`; returns an error or "". */
function readHeaders(config: JsonValue, field: string, out: HeaderList): string {
  const section = config.get(field);
  if (section === null) return "";
  if (!section.isObject()) return field + ": expected an object of header names to values, got " + section.kindName();
  for (let i = 0; i < section.keys.length; i++) {
    const name = section.keys[i];
    const value = section.items[i];
    const nameProblem = headerNameProblem(name);
    if (nameProblem.length > 0) return field + ": " + nameProblem;
    if (name.charCodeAt(0) == 58) return field + "." + name + ": pseudo-headers cannot be added";
    if (!value.isString()) return field + "." + name + ": expected a string, got " + value.kindName();
    const valueProblem = headerValueProblem(value.string);
    if (valueProblem.length > 0) return field + "." + name + ": " + valueProblem;
    out.names.push(name);
    out.values.push(value.string);
  }
  return "";
}

class AddHeaderRoot extends RootContext {
  request: HeaderList = new HeaderList();
  response: HeaderList = new HeaderList();

  onConfigure(configuration_size: u32): bool {
    const text = this.getConfiguration();
    const request = new HeaderList();
    const response = new HeaderList();
    if (text.length > 0) {
      const parsed = parseJson(text);
      if (!parsed.ok) {
        log(LogLevelValues.error, "configuration is not valid JSON: " + parsed.error);
        return false;
      }
      const config = parsed.value!;
      if (!config.isObject()) {
        log(LogLevelValues.error, "configuration must be a JSON object, got " + config.kindName());
        return false;
      }
      for (let i = 0; i < config.keys.length; i++) {
        const key = config.keys[i];
        if (key != "request_headers" && key != "response_headers") {
          log(LogLevelValues.error, "unknown field \"" + key + "\" (expected request_headers, response_headers)");
          return false;
        }
      }
      let error = readHeaders(config, "request_headers", request);
      if (error.length == 0) error = readHeaders(config, "response_headers", response);
      if (error.length > 0) {
        log(LogLevelValues.error, error);
        return false;
      }
    }
    this.request = request;
    this.response = response;
    return true;
  }

  createContext(context_id: u32): Context {
    return new AddHeader(context_id, this);
  }
}

class AddHeader extends Context {
  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const list = (this.root_context as AddHeaderRoot).request;
    for (let i = 0; i < list.names.length; i++) {
      stream_context.headers.request.replace(list.names[i], list.values[i]);
    }
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const list = (this.root_context as AddHeaderRoot).response;
    for (let i = 0; i < list.names.length; i++) {
      stream_context.headers.response.replace(list.names[i], list.values[i]);
    }
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32): RootContext => new AddHeaderRoot(context_id), "add-header");
