// The rate-quota configuration: parsed and checked once in onConfigure; every error names its field.
import {
  Cidr, ConfigReader, ESCAPED_SLASHES_UNESCAPE, HeaderPair, JsonValue, PEER_TRUST_MTLS, Regex, RegexEncoding, headerNameProblem, headerValueProblem,
  parsePathNormalization, parsePeerTrust,
} from "../../assembly";

export const ALGORITHM_TOKEN_BUCKET: u8 = 0;
export const ALGORITHM_FIXED_WINDOW: u8 = 1;

/** Where a dimension's value comes from. The first source of a dimension that yields a value wins. */
export class Source {
  kind: string = "";
  /** header name, or the constant, or the value a path/CIDR match yields ("" = the matched text). */
  text: string = "";
  property: string[] = [];
  pathMatch: string = "";
  pathText: string = "";
  regex: Regex | null = null;
  cidrs: Cidr[] = [];
}

export class Dimension {
  constructor(public name: string, public sources: Source[]) {}
}

export class Override {
  /** Per quota dimension: the value it must have, or null when the override does not constrain it. */
  values: Array<string | null> = [];
  limit: i64 = 0;
  windowNs: i64 = 0;
}

export class Quota {
  name: string = "";
  /** Indexes into RateQuotaConfig.dimensions, in the order they form the key. */
  dimensions: i32[] = [];
  limit: i64 = 0;
  windowNs: i64 = 0;
  algorithm: u8 = ALGORITHM_TOKEN_BUCKET;
  shadow: bool = false;
  overrides: Override[] = [];
}

export class GlobalService {
  cluster: string = "";
  domain: string = "";
  timeoutMs: u32 = 20;
  failureModeDeny: bool = false;
  statusOnError: u32 = 500;
}

export class RateQuotaConfig {
  global: GlobalService | null = null;
  dimensions: Dimension[] = [];
  quotas: Quota[] = [];
  denyStatus: u32 = 429;
  denyBody: string = "rate limited\n";
  denyHeaders: HeaderPair[] = [];
  responseHeaders: bool = true;
  maxKeys: i32 = 10000;
  /** Longest key (dimension values joined, in characters) counted on its own. */
  maxKeyLength: i32 = 256;
  casRetries: i32 = 8;
  denyOnContention: bool = false;
  peerTrust: u8 = PEER_TRUST_MTLS;
  escapedSlashes: u8 = ESCAPED_SLASHES_UNESCAPE;
}

export class ParsedConfig {
  constructor(public config: RateQuotaConfig | null, public error: string) {}
}

const TOP_FIELDS = ["mode", "dimensions", "quotas", "deny_response", "response_headers", "max_keys", "cas_retries", "on_contention", "rate_limit_service",
  "peer_metadata", "path_normalization", "max_key_length"];
const QUOTA_FIELDS = ["name", "dimensions", "max_amount", "valid_duration", "algorithm", "shadow", "overrides"];
const SOURCE_KINDS = ["header", "method", "path", "source_address", "source_cidr", "property", "peer_label", "constant"];

export function parseConfig(text: string): ParsedConfig {
  const r = new ConfigReader();
  const root = r.parse(text);
  if (root === null || !r.object(root, "", TOP_FIELDS)) return new ParsedConfig(null, r.error);
  const config = new RateQuotaConfig();
  config.peerTrust = parsePeerTrust(r, root);
  config.escapedSlashes = parsePathNormalization(r, root);

  const mode = r.choice(root, "mode", "", ["local", "global"], "local");
  config.maxKeys = <i32>r.integer(root, "max_keys", "", 16, 1_000_000, 10000);
  config.maxKeyLength = <i32>r.integer(root, "max_key_length", "", 16, 65536, 256);
  config.casRetries = <i32>r.integer(root, "cas_retries", "", 1, 100, 8);
  config.denyOnContention = r.choice(root, "on_contention", "", ["allow", "deny"], "allow") == "deny";
  config.responseHeaders = r.bool(root, "response_headers", "", true);

  const deny = root.get("deny_response");
  if (deny !== null && r.object(deny, "deny_response", ["status", "body", "headers"])) {
    config.denyStatus = <u32>r.integer(deny, "status", "deny_response", 200, 599, 429);
    const body = r.string(deny, "body", "deny_response", config.denyBody);
    if (body !== null) config.denyBody = body;
    const headers = deny.get("headers");
    if (headers !== null && r.object(headers, "deny_response.headers", headers.keys)) {
      for (let i = 0; i < headers.keys.length; i++) {
        const path = "deny_response.headers." + headers.keys[i];
        const problem = headerNameProblem(headers.keys[i]);
        if (problem.length > 0) { r.fail(path, problem); break; }
        if (!headers.items[i].isString()) { r.fail(path, "expected a string, got " + headers.items[i].kindName()); break; }
        const valueProblem = headerValueProblem(headers.items[i].string);
        if (valueProblem.length > 0) { r.fail(path, valueProblem); break; }
        config.denyHeaders.push(HeaderPair.of(headers.keys[i], headers.items[i].string));
      }
    }
  }

  const dims = r.required(root, "dimensions", "");
  if (dims !== null && r.object(dims, "dimensions", dims.keys)) {
    for (let i = 0; i < dims.keys.length && r.ok; i++) {
      config.dimensions.push(new Dimension(dims.keys[i], parseSources(r, dims.items[i], "dimensions." + dims.keys[i])));
    }
  }

  const quotas = r.required(root, "quotas", "");
  if (quotas !== null && r.array(quotas, "quotas")) {
    if (quotas.items.length == 0) r.fail("quotas", "must list at least one quota");
    for (let i = 0; i < quotas.items.length && r.ok; i++) {
      const quota = parseQuota(r, quotas.items[i], "quotas[" + i.toString() + "]", config);
      for (let j = 0; j < config.quotas.length; j++) {
        if (config.quotas[j].name == quota.name) r.fail("quotas[" + i.toString() + "].name", "\"" + quota.name + "\" is used by quotas[" + j.toString() + "] already");
      }
      config.quotas.push(quota);
    }
  }

  if (mode == "global") {
    const service = r.required(root, "rate_limit_service", "");
    if (service !== null && r.object(service, "rate_limit_service", ["cluster", "domain", "timeout", "failure_mode_deny", "status_on_error"])) {
      const g = new GlobalService();
      const cluster = r.string(service, "cluster", "rate_limit_service");
      const domain = r.string(service, "domain", "rate_limit_service");
      g.cluster = cluster === null ? "" : cluster;
      g.domain = domain === null ? "" : domain;
      if (r.ok && g.cluster.length == 0) r.fail("rate_limit_service.cluster", "must not be empty");
      if (r.ok && g.domain.length == 0) r.fail("rate_limit_service.domain", "must not be empty");
      g.timeoutMs = <u32>(r.duration(service, "timeout", "rate_limit_service", 20_000_000) / 1_000_000);
      g.failureModeDeny = r.bool(service, "failure_mode_deny", "rate_limit_service", false);
      g.statusOnError = <u32>r.integer(service, "status_on_error", "rate_limit_service", 200, 599, 500);
      config.global = g;
    }
  } else if (root.has("rate_limit_service")) {
    r.fail("rate_limit_service", "is only used with \"mode\": \"global\"");
  }
  return r.ok ? new ParsedConfig(config, "") : new ParsedConfig(null, r.error);
}

function parseSources(r: ConfigReader, value: JsonValue, path: string): Source[] {
  const out = new Array<Source>();
  if (value.isArray()) {
    if (value.items.length == 0) r.fail(path, "must list at least one source");
    for (let i = 0; i < value.items.length && r.ok; i++) out.push(parseSource(r, value.items[i], path + "[" + i.toString() + "]"));
  } else {
    out.push(parseSource(r, value, path));
  }
  return out;
}

function parseSource(r: ConfigReader, value: JsonValue, path: string): Source {
  const s = new Source();
  if (!value.isObject() || value.keys.length == 0) {
    r.fail(path, "expected a source object such as {\"header\": \"x-user\"}, got " + value.kindName());
    return s;
  }
  const kind = value.keys[0];
  if (!SOURCE_KINDS.includes(kind)) {
    r.fail(path + "." + kind, "unknown dimension source (expected one of: " + SOURCE_KINDS.join(", ") + ")");
    return s;
  }
  s.kind = kind;
  const v = value.items[0];
  const allowed = kind == "path" || kind == "source_cidr" ? [kind, "value"] : [kind];
  if (!r.object(value, path, allowed)) return s;
  const out = value.get("value");
  if (out !== null) {
    if (!out.isString()) { r.fail(path + ".value", "expected a string"); return s; }
    s.text = out.string;
  }
  if (kind == "header") {
    if (!v.isString()) { r.fail(path + ".header", "expected a header name"); return s; }
    const problem = headerNameProblem(v.string);
    if (problem.length > 0) r.fail(path + ".header", problem);
    s.text = v.string;
  } else if (kind == "constant") {
    if (!v.isString()) { r.fail(path + ".constant", "expected a string"); return s; }
    s.text = v.string;
  } else if (kind == "peer_label") {
    if (!v.isString() || v.string.length == 0) { r.fail(path + ".peer_label", "expected a label name, e.g. \"app\""); return s; }
    s.text = v.string;
  } else if (kind == "method" || kind == "source_address") {
    if (!v.isBool() || !v.bool) r.fail(path + "." + kind, "expected true");
  } else if (kind == "property") {
    if (!v.isArray() || v.items.length == 0) { r.fail(path + ".property", "expected a path of segments, e.g. [\"xds\", \"node\", \"metadata\", \"LABELS\", \"app\"]"); return s; }
    for (let i = 0; i < v.items.length; i++) {
      if (!v.items[i].isString()) { r.fail(path + ".property[" + i.toString() + "]", "expected a string"); return s; }
      s.property.push(v.items[i].string);
    }
  } else if (kind == "path") {
    if (v.isBool() && v.bool) return s;
    if (!v.isObject() || v.keys.length != 1) { r.fail(path + ".path", "expected true or one of {\"exact\": ...}, {\"prefix\": ...}, {\"regex\": ...}"); return s; }
    const how = v.keys[0];
    if (how != "exact" && how != "prefix" && how != "regex") { r.fail(path + ".path." + how, "unknown path match (expected exact, prefix or regex)"); return s; }
    if (!v.items[0].isString()) { r.fail(path + ".path." + how, "expected a string"); return s; }
    s.pathMatch = how;
    s.pathText = v.items[0].string;
    if (how == "regex") {
      // As Envoy's safe_regex: Latin-1, one byte per character.
      const compiled = Regex.compile(s.pathText, RegexEncoding.Latin1);
      if (!compiled.ok) r.fail(path + ".path.regex", "invalid regex: " + compiled.error);
      s.regex = compiled.regex;
    }
  } else if (kind == "source_cidr") {
    const list = v.isString() ? [v] : v.items;
    if (!v.isString() && !v.isArray()) { r.fail(path + ".source_cidr", "expected a CIDR range or a list of them"); return s; }
    for (let i = 0; i < list.length; i++) {
      const item = list[i];
      const cidr = item.isString() ? Cidr.parse(item.string) : null;
      if (cidr === null) { r.fail(path + ".source_cidr", (item.isString() ? "\"" + item.string + "\"" : item.kindName()) + " is not a CIDR range such as \"10.0.0.0/8\""); return s; }
      s.cidrs.push(cidr);
    }
  }
  return s;
}

function parseQuota(r: ConfigReader, value: JsonValue, path: string, config: RateQuotaConfig): Quota {
  const q = new Quota();
  if (!r.object(value, path, QUOTA_FIELDS)) return q;
  const name = r.string(value, "name", path);
  q.name = name === null ? "" : name;
  if (r.ok && (q.name.length == 0 || q.name.indexOf("|") >= 0 || q.name.indexOf(".") >= 0)) r.fail(path + ".name", "must be non-empty without '|' or '.'");
  const dims = value.get("dimensions");
  if (dims !== null && r.array(dims, path + ".dimensions")) {
    for (let i = 0; i < dims.items.length; i++) {
      const d = dims.items[i];
      const at = findDimension(config, d.isString() ? d.string : "");
      if (at < 0) { r.fail(path + ".dimensions[" + i.toString() + "]", (d.isString() ? "\"" + d.string + "\"" : d.kindName()) + " is not a declared dimension (declared: " + dimensionNames(config) + ")"); return q; }
      q.dimensions.push(at);
    }
  }
  q.limit = r.integer(value, "max_amount", path, 1, 1_000_000_000, -1);
  q.windowNs = r.duration(value, "valid_duration", path);
  q.algorithm = r.choice(value, "algorithm", path, ["token_bucket", "fixed_window"], "token_bucket") == "fixed_window" ? ALGORITHM_FIXED_WINDOW : ALGORITHM_TOKEN_BUCKET;
  q.shadow = r.bool(value, "shadow", path, false);
  const overrides = value.get("overrides");
  if (overrides !== null && r.array(overrides, path + ".overrides")) {
    for (let i = 0; i < overrides.items.length && r.ok; i++) {
      q.overrides.push(parseOverride(r, overrides.items[i], path + ".overrides[" + i.toString() + "]", q, config));
    }
  }
  return q;
}

function parseOverride(r: ConfigReader, value: JsonValue, path: string, quota: Quota, config: RateQuotaConfig): Override {
  const o = new Override();
  if (!r.object(value, path, ["dimensions", "max_amount", "valid_duration"])) return o;
  for (let i = 0; i < quota.dimensions.length; i++) o.values.push(null);
  const dims = r.required(value, "dimensions", path);
  if (dims !== null && r.object(dims, path + ".dimensions", dims.keys)) {
    if (dims.keys.length == 0) r.fail(path + ".dimensions", "must name at least one dimension");
    for (let i = 0; i < dims.keys.length; i++) {
      const at = findDimension(config, dims.keys[i]);
      const slot = quota.dimensions.indexOf(at);
      if (slot < 0) {
        r.fail(path + ".dimensions." + dims.keys[i], "is not a dimension of quota \"" + quota.name + "\" (its dimensions: " + quotaDimensionNames(quota, config) + ")");
        return o;
      }
      if (!dims.items[i].isString()) { r.fail(path + ".dimensions." + dims.keys[i], "expected a string value"); return o; }
      o.values[slot] = dims.items[i].string;
    }
  }
  o.limit = r.integer(value, "max_amount", path, 1, 1_000_000_000, -1);
  o.windowNs = r.duration(value, "valid_duration", path, quota.windowNs);
  return o;
}

function findDimension(config: RateQuotaConfig, name: string): i32 {
  for (let i = 0; i < config.dimensions.length; i++) if (config.dimensions[i].name == name) return i;
  return -1;
}

function dimensionNames(config: RateQuotaConfig): string {
  const names = new Array<string>();
  for (let i = 0; i < config.dimensions.length; i++) names.push(config.dimensions[i].name);
  return names.length == 0 ? "none" : names.join(", ");
}

function quotaDimensionNames(quota: Quota, config: RateQuotaConfig): string {
  const names = new Array<string>();
  for (let i = 0; i < quota.dimensions.length; i++) names.push(config.dimensions[quota.dimensions[i]].name);
  return names.length == 0 ? "none" : names.join(", ");
}
