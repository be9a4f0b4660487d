// The access-control configuration: policies in Istio AuthorizationPolicy's shape, checked
// once at configure; every error names its field (and, in expressions, the position).
import {
  Cidr, ConfigReader, HeaderPair, JsonValue, headerNameProblem, headerValueProblem, parseDuration, parsePathNormalization, parsePeerTrust,
} from "../../assembly";
import { Expr, parseExpression, usesCredentials } from "./expression";
import { StringMatcher, parseMatcher } from "./matchers";
import { ApiKeys, JwtSettings, KeySource, RequestSettings } from "./settings";

export const ACTION_ALLOW: u8 = 0;
export const ACTION_DENY: u8 = 1;
export const ACTION_AUDIT: u8 = 2;

/** A list of matchers and its negation, as Istio's `x` and `not_x` fields. */
export class MatchField {
  positive: StringMatcher[] = [];
  negative: StringMatcher[] = [];
  positiveCidrs: Cidr[] = [];
  negativeCidrs: Cidr[] = [];
  get empty(): bool { return this.positive.length == 0 && this.negative.length == 0 && this.positiveCidrs.length == 0 && this.negativeCidrs.length == 0; }
}

export class SourceMatch {
  ipBlocks: MatchField = new MatchField();
  principals: MatchField = new MatchField();
  requestPrincipals: MatchField = new MatchField();
  namespaces: MatchField = new MatchField();
  consumers: MatchField = new MatchField();
}

export class OperationMatch {
  hosts: MatchField = new MatchField();
  ports: MatchField = new MatchField();
  methods: MatchField = new MatchField();
  paths: MatchField = new MatchField();
}

export class Rule {
  name: string = "";
  sources: SourceMatch[] = [];
  operations: OperationMatch[] = [];
  when: Expr[] = [];
  /** Reads credentials: without them, a deny caused by this rule's absence is a 401. */
  needsCredentials: bool = false;
}

export class Policy {
  name: string = "";
  action: u8 = ACTION_ALLOW;
  dryRun: bool = false;
  rules: Rule[] = [];
}

export class Reply {
  status: u32 = 403;
  body: string = "RBAC: access denied";
  headers: HeaderPair[] = [];
}

export class AccessConfig extends RequestSettings {
  policies: Policy[] = [];
  denied: Reply = new Reply();
  unauthenticated: Reply = new Reply();
}

export class ParsedConfig {
  constructor(public config: AccessConfig | null, public error: string) {}
}

const TOP = ["policies", "principal_from", "peer_metadata", "path_normalization", "api_keys", "jwt", "deny_response", "unauthenticated_response"];
const JWT_FIELDS = ["payload_in_metadata", "payload_header", "unsafe_trust_payload_header", "clock_skew"];

export function parseConfig(text: string): ParsedConfig {
  const r = new ConfigReader();
  const root = r.parse(text);
  if (root === null || !r.object(root, "", TOP)) return new ParsedConfig(null, r.error);
  const config = new AccessConfig();
  config.unauthenticated.status = 401;
  config.unauthenticated.body = "Jwt or API key is missing or invalid";

  const principal = root.get("principal_from");
  if (principal !== null && r.object(principal, "principal_from", ["header", "property"])) {
    const header = principal.get("header");
    const property = principal.get("property");
    const expected = "expected {\"header\": \"x-forwarded-client-cert\"} or {\"property\": [\"connection\", \"uri_san_peer_certificate\"]}";
    if (principal.keys.length != 1) r.fail("principal_from", expected);
    else if (header !== null) {
      if (!header.isString() || headerNameProblem(header.string).length > 0) r.fail("principal_from.header", "expected a header name");
      else config.principalSource = ["header", header.string];
    } else if (property !== null && property.isArray() && property.items.length > 0) {
      config.principalSource = ["property"];
      for (let i = 0; i < property.items.length; i++) {
        const segment = property.items[i];
        if (!segment.isString() || segment.string.length == 0) { r.fail("principal_from.property[" + i.toString() + "]", "expected a non-empty string segment"); break; }
        config.principalSource.push(segment.string);
      }
    } else r.fail("principal_from", expected);
  }
  config.peerTrust = parsePeerTrust(r, root);
  config.escapedSlashes = parsePathNormalization(r, root);

  const keys = root.get("api_keys");
  if (keys !== null && r.object(keys, "api_keys", ["from", "keys"])) config.apiKeys = parseApiKeys(r, keys);

  const jwt = root.get("jwt");
  if (jwt !== null && r.object(jwt, "jwt", JWT_FIELDS)) config.jwt = parseJwt(r, jwt);

  parseReply(r, root.get("deny_response"), "deny_response", config.denied);
  parseReply(r, root.get("unauthenticated_response"), "unauthenticated_response", config.unauthenticated);

  const policies = r.required(root, "policies", "");
  if (policies !== null && r.array(policies, "policies")) {
    for (let i = 0; i < policies.items.length && r.ok; i++) {
      const policy = parsePolicy(r, policies.items[i], "policies[" + i.toString() + "]");
      for (let j = 0; j < config.policies.length; j++) {
        if (config.policies[j].name == policy.name) r.fail("policies[" + i.toString() + "].name", "\"" + policy.name + "\" is used by policies[" + j.toString() + "] already");
      }
      config.policies.push(policy);
    }
  }
  return r.ok ? new ParsedConfig(config, "") : new ParsedConfig(null, r.error);
}

function parseJwt(r: ConfigReader, jwt: JsonValue): JwtSettings {
  const j = new JwtSettings();
  const keys = jwt.get("payload_in_metadata");
  if (keys !== null) {
    const items = keys.isArray() ? keys.items : [keys];
    for (let i = 0; i < items.length; i++) {
      if (!items[i].isString() || items[i].string.length == 0) { r.fail("jwt.payload_in_metadata", "expected the key (or list of keys) jwt_authn's payload_in_metadata names"); return j; }
      j.metadataKeys.push(items[i].string);
    }
    if (items.length == 0) r.fail("jwt.payload_in_metadata", "expected at least one key");
  }
  const header = r.string(jwt, "payload_header", "jwt", "");
  const unsafe = r.bool(jwt, "unsafe_trust_payload_header", "jwt", false);
  if (header !== null && header.length > 0) {
    const problem = headerNameProblem(header);
    if (problem.length > 0) r.fail("jwt.payload_header", problem);
    else if (!unsafe) {
      r.fail("jwt.payload_header", "a client can send this header itself when jwt_authn lets a request through without a token; " +
        "read the verified payload from jwt_authn's dynamic metadata with \"payload_in_metadata\" (set the same key in jwt_authn), " +
        "or set \"unsafe_trust_payload_header\": true if a proxy in front removes the header from every client request");
    }
    j.payloadHeader = header;
  } else if (unsafe) r.fail("jwt.unsafe_trust_payload_header", "needs payload_header");
  if (r.ok && j.metadataKeys.length == 0 && j.payloadHeader.length == 0) {
    r.fail("jwt", "expected payload_in_metadata (the key jwt_authn's payload_in_metadata names, e.g. \"jwt_payload\")");
  }
  const skew = jwt.get("clock_skew");
  if (skew !== null) {
    const ns = skew.isString() ? parseDuration(skew.string) : -1;
    if (ns < 0) r.fail("jwt.clock_skew", "expected a duration such as \"60s\"");
    else j.clockSkewNs = ns;
  }
  return j;
}

function parseReply(r: ConfigReader, value: JsonValue | null, path: string, out: Reply): void {
  if (value === null || !r.object(value, path, ["status", "body", "headers"])) return;
  out.status = <u32>r.integer(value, "status", path, 200, 599, out.status);
  const body = r.string(value, "body", path, out.body);
  if (body !== null) out.body = body;
  const headers = value.get("headers");
  if (headers === null || !r.object(headers, path + ".headers", headers.keys)) return;
  for (let i = 0; i < headers.keys.length; i++) {
    const at = path + ".headers." + headers.keys[i];
    const problem = headerNameProblem(headers.keys[i]);
    if (problem.length > 0) { r.fail(at, problem); return; }
    if (!headers.items[i].isString()) { r.fail(at, "expected a string"); return; }
    const valueProblem = headerValueProblem(headers.items[i].string);
    if (valueProblem.length > 0) { r.fail(at, valueProblem); return; }
    out.headers.push(HeaderPair.of(headers.keys[i], headers.items[i].string));
  }
}

function parseApiKeys(r: ConfigReader, value: JsonValue): ApiKeys {
  const keys = new ApiKeys();
  const from = r.required(value, "from", "api_keys");
  if (from !== null && r.array(from, "api_keys.from")) {
    for (let i = 0; i < from.items.length; i++) {
      const at = "api_keys.from[" + i.toString() + "]";
      const item = from.items[i];
      if (!r.object(item, at, ["header", "query"]) || item.keys.length != 1 || !item.items[0].isString()) {
        r.fail(at, "expected {\"header\": \"x-api-key\"} or {\"query\": \"api_key\"}");
        return keys;
      }
      keys.sources.push(new KeySource(item.keys[0], item.items[0].string));
    }
  }
  const list = r.required(value, "keys", "api_keys");
  if (list !== null && r.array(list, "api_keys.keys")) {
    for (let i = 0; i < list.items.length; i++) {
      const at = "api_keys.keys[" + i.toString() + "]";
      const item = list.items[i];
      if (!r.object(item, at, ["consumer", "sha256"])) return keys;
      const consumer = r.string(item, "consumer", at);
      const hash = r.string(item, "sha256", at);
      if (consumer === null || hash === null) return keys;
      if (!isHexDigest(hash)) { r.fail(at + ".sha256", "expected 64 lower-case hex digits (the SHA-256 of the key)"); return keys; }
      keys.consumers.push(consumer);
      keys.hashes.push(hash);
    }
  }
  return keys;
}

function isHexDigest(s: string): bool {
  if (s.length != 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

function parsePolicy(r: ConfigReader, value: JsonValue, path: string): Policy {
  const p = new Policy();
  if (!r.object(value, path, ["name", "action", "dry_run", "rules"])) return p;
  const name = r.string(value, "name", path);
  p.name = name === null ? "" : name;
  if (r.ok && (p.name.length == 0 || p.name.indexOf(".") >= 0)) r.fail(path + ".name", "must be non-empty without '.'");
  const action = r.choice(value, "action", path, ["ALLOW", "DENY", "AUDIT"], "ALLOW");
  p.action = action == "DENY" ? ACTION_DENY : action == "AUDIT" ? ACTION_AUDIT : ACTION_ALLOW;
  p.dryRun = r.bool(value, "dry_run", path, false);
  const rules = value.get("rules");
  if (rules !== null && r.array(rules, path + ".rules")) {
    for (let i = 0; i < rules.items.length && r.ok; i++) p.rules.push(parseRule(r, rules.items[i], path + ".rules[" + i.toString() + "]", i));
  }
  return p;
}

function parseRule(r: ConfigReader, value: JsonValue, path: string, index: i32): Rule {
  const rule = new Rule();
  if (!r.object(value, path, ["name", "from", "to", "when"])) return rule;
  const name = r.string(value, "name", path, "rule-" + index.toString());
  rule.name = name === null ? "" : name;
  if (r.ok && (rule.name.length == 0 || rule.name.indexOf(".") >= 0)) r.fail(path + ".name", "must be non-empty without '.'");
  const from = value.get("from");
  if (from !== null && r.array(from, path + ".from")) {
    for (let i = 0; i < from.items.length && r.ok; i++) {
      const at = path + ".from[" + i.toString() + "]";
      const item = from.items[i];
      if (!r.object(item, at, ["source"])) break;
      const source = r.required(item, "source", at);
      if (source === null) break;
      rule.sources.push(parseSource(r, source, at + ".source"));
    }
  }
  const to = value.get("to");
  if (to !== null && r.array(to, path + ".to")) {
    for (let i = 0; i < to.items.length && r.ok; i++) {
      const at = path + ".to[" + i.toString() + "]";
      const item = to.items[i];
      if (!r.object(item, at, ["operation"])) break;
      const operation = r.required(item, "operation", at);
      if (operation === null) break;
      rule.operations.push(parseOperation(r, operation, at + ".operation"));
    }
  }
  const when = value.get("when");
  if (when !== null && r.array(when, path + ".when")) {
    for (let i = 0; i < when.items.length && r.ok; i++) {
      const at = path + ".when[" + i.toString() + "]";
      const item = when.items[i];
      if (!item.isString()) { r.fail(at, "expected an expression string such as \"request.method == 'GET'\""); break; }
      const parsed = parseExpression(item.string);
      if (parsed.expr === null) { r.fail(at, parsed.error); break; }
      rule.when.push(parsed.expr!);
      if (usesCredentials(parsed.expr!)) rule.needsCredentials = true;
    }
  }
  for (let i = 0; i < rule.sources.length; i++) {
    const f = rule.sources[i];
    if (!f.requestPrincipals.empty || !f.consumers.empty) rule.needsCredentials = true;
  }
  return rule;
}

const SOURCE_FIELDS = ["ip_blocks", "not_ip_blocks", "principals", "not_principals", "request_principals", "not_request_principals",
  "namespaces", "not_namespaces", "consumers", "not_consumers"];
const OPERATION_FIELDS = ["hosts", "not_hosts", "ports", "not_ports", "methods", "not_methods", "paths", "not_paths"];

function parseSource(r: ConfigReader, value: JsonValue, path: string): SourceMatch {
  const s = new SourceMatch();
  if (!r.object(value, path, SOURCE_FIELDS)) return s;
  cidrs(r, value, "ip_blocks", path, s.ipBlocks);
  strings(r, value, "principals", path, s.principals, false, false);
  strings(r, value, "request_principals", path, s.requestPrincipals, false, false);
  strings(r, value, "namespaces", path, s.namespaces, false, false);
  strings(r, value, "consumers", path, s.consumers, false, false);
  return s;
}

function parseOperation(r: ConfigReader, value: JsonValue, path: string): OperationMatch {
  const o = new OperationMatch();
  if (!r.object(value, path, OPERATION_FIELDS)) return o;
  strings(r, value, "hosts", path, o.hosts, false, true);
  strings(r, value, "ports", path, o.ports, false, false);
  strings(r, value, "methods", path, o.methods, false, false);
  strings(r, value, "paths", path, o.paths, true, false);
  return o;
}

function list(r: ConfigReader, value: JsonValue, key: string, path: string): JsonValue[] {
  const v = value.get(key);
  if (v === null) return [];
  if (!v.isArray()) { r.fail(path + "." + key, "expected a list of strings"); return []; }
  for (let i = 0; i < v.items.length; i++) {
    if (!v.items[i].isString() && !(key.endsWith("ports") && v.items[i].isInteger())) {
      r.fail(path + "." + key + "[" + i.toString() + "]", "expected a string");
      return [];
    }
  }
  return v.items;
}

function strings(r: ConfigReader, value: JsonValue, key: string, path: string, out: MatchField, isPath: bool, ignoreCase: bool): void {
  for (let pass = 0; pass < 2; pass++) {
    const field = pass == 0 ? key : "not_" + key;
    const items = list(r, value, field, path);
    for (let i = 0; i < items.length && r.ok; i++) {
      const text = items[i].isString() ? items[i].string : (<i64>items[i].number).toString();
      if (key == "ports" && !isPort(text)) { r.fail(path + "." + field + "[" + i.toString() + "]", "\"" + text + "\" is not a port number"); return; }
      const parsed = parseMatcher(text, isPath, ignoreCase);
      if (parsed.matcher === null) { r.fail(path + "." + field + "[" + i.toString() + "]", parsed.error); return; }
      if (pass == 0) out.positive.push(parsed.matcher!);
      else out.negative.push(parsed.matcher!);
    }
  }
}

function cidrs(r: ConfigReader, value: JsonValue, key: string, path: string, out: MatchField): void {
  for (let pass = 0; pass < 2; pass++) {
    const field = pass == 0 ? key : "not_" + key;
    const items = list(r, value, field, path);
    for (let i = 0; i < items.length; i++) {
      const cidr = Cidr.parse(items[i].string);
      if (cidr === null) { r.fail(path + "." + field + "[" + i.toString() + "]", "\"" + items[i].string + "\" is not an IP address or CIDR range"); return; }
      if (pass == 0) out.positiveCidrs.push(cidr);
      else out.negativeCidrs.push(cidr);
    }
  }
}

function isPort(s: string): bool {
  if (s.length == 0 || s.length > 5) return false;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
    n = n * 10 + (c - 48);
  }
  return n > 0 && n <= 65535;
}
