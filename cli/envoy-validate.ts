// Checks an Envoy v3 bootstrap against Envoy's own API (the protos @grpc/grpc-js-xds ships),
// strictly, the way Envoy rejects a configuration: unknown fields, wrong types, unresolvable
// typed `Any`s and two members of one oneof are errors, each reported with its path.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { ROOT } from './paths.js';

const PROTOS = [
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/wasm/v3/wasm.proto',
  'envoy/extensions/filters/http/jwt_authn/v3/config.proto',
  'envoy/extensions/filters/http/ratelimit/v3/rate_limit.proto',
  'envoy/extensions/filters/http/header_mutation/v3/header_mutation.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'google/protobuf/wrappers.proto',
];

let cached: protobuf.Root | undefined;

function envoyApi(): protobuf.Root {
  if (cached) return cached;
  const deps = join(ROOT, 'node_modules', '@grpc', 'grpc-js-xds', 'deps');
  const dirs = [...['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(deps, d)), join(ROOT, 'node_modules', 'protobufjs')];
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => dirs.map((d) => join(d, target)).find((p) => existsSync(p)) ?? target;
  root.loadSync(PROTOS, { keepCase: true });
  root.resolveAll();
  cached = root;
  return root;
}

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue']
  .map((n) => `google.protobuf.${n}`));
const NUMERIC = new Set(['double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32', 'int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

class Checker {
  readonly errors: string[] = [];
  constructor(private readonly root: protobuf.Root) {}

  private fail(path: string, message: string): void { this.errors.push(`${path || '(root)'}: ${message}`); }

  scalar(type: string, value: unknown, path: string): void {
    if (type === 'string' || type === 'bytes') { if (typeof value !== 'string') this.fail(path, `expected a string, got ${JSON.stringify(value)}`); return; }
    if (type === 'bool') { if (typeof value !== 'boolean') this.fail(path, `expected true or false, got ${JSON.stringify(value)}`); return; }
    if (NUMERIC.has(type)) {
      const ok = typeof value === 'number' || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value));
      if (!ok) this.fail(path, `expected a number, got ${JSON.stringify(value)}`);
    }
  }

  /** A value of message type `name` in its JSON/YAML form. */
  message(name: string, value: unknown, path: string): void {
    if (WRAPPERS.has(name)) {
      const inner = (this.root.lookupType(name).fields.value).type;
      this.scalar(inner, value, path);
      return;
    }
    switch (name) {
      case 'google.protobuf.Duration':
        if (typeof value !== 'string' || !/^-?\d+(\.\d+)?s$/.test(value)) this.fail(path, `expected a duration such as "1s", got ${JSON.stringify(value)}`);
        return;
      case 'google.protobuf.Timestamp':
        if (typeof value !== 'string') this.fail(path, 'expected an RFC 3339 timestamp');
        return;
      case 'google.protobuf.Struct':
        if (!isObject(value)) this.fail(path, 'expected an object');
        return;
      case 'google.protobuf.Value':
      case 'google.protobuf.ListValue':
        return;
      case 'google.protobuf.Any':
        this.any(value, path);
        return;
      default:
        break;
    }
    if (!isObject(value)) { this.fail(path, `expected an object (${name}), got ${JSON.stringify(value)}`); return; }
    this.fields(this.root.lookupType(name), value, path);
  }

  private any(value: unknown, path: string): void {
    if (!isObject(value) || typeof value['@type'] !== 'string') { this.fail(path, 'a typed config needs "@type"'); return; }
    const url = value['@type'] as string;
    const typeName = url.slice(url.lastIndexOf('/') + 1);
    let type: protobuf.Type;
    try {
      type = this.root.lookupType(typeName);
    } catch {
      this.fail(`${path}.@type`, `cannot resolve ${url}: no such message in Envoy's API`);
      return;
    }
    if (WRAPPERS.has(type.fullName.slice(1))) {
      const { '@type': _, ...rest } = value;
      if (Object.keys(rest).some((k) => k !== 'value')) this.fail(path, `${typeName} holds only "value"`);
      this.scalar(type.fields.value.type, rest.value, `${path}.value`);
      return;
    }
    const { '@type': _, ...rest } = value;
    this.fields(type, rest, path);
  }

  private fields(type: protobuf.Type, value: Record<string, unknown>, path: string): void {
    const byName = new Map<string, protobuf.Field>();
    for (const field of type.fieldsArray) {
      byName.set(field.name, field);
      if (field.options?.json_name) byName.set(field.options.json_name as string, field);
      byName.set(camel(field.name), field);
    }
    const setOneofs = new Map<string, string>();
    for (const [key, v] of Object.entries(value)) {
      const at = path ? `${path}.${key}` : key;
      const field = byName.get(key);
      if (!field) { this.fail(at, `unknown field in ${type.fullName.slice(1)}`); continue; }
      if (field.partOf) {
        const other = setOneofs.get(field.partOf.name);
        if (other) this.fail(at, `only one of ${field.partOf.oneof.join(', ')} may be set (${other} is set too)`);
        setOneofs.set(field.partOf.name, key);
      }
      field.resolve();
      if (field.map) {
        if (!isObject(v)) { this.fail(at, 'expected a map (an object)'); continue; }
        for (const [k, item] of Object.entries(v)) this.value(field, item, `${at}.${k}`);
      } else if (field.repeated) {
        if (!Array.isArray(v)) { this.fail(at, `expected a list, got ${JSON.stringify(v)}`); continue; }
        v.forEach((item, i) => this.value(field, item, `${at}[${i}]`));
      } else {
        this.value(field, v, at);
      }
    }
  }

  private value(field: protobuf.Field, value: unknown, path: string): void {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Enum) {
      if (!(typeof value === 'number' || (typeof value === 'string' && value in resolved.values))) {
        this.fail(path, `${JSON.stringify(value)} is not one of ${Object.keys(resolved.values).join(', ')}`);
      }
    } else if (resolved instanceof protobuf.Type) {
      this.message(resolved.fullName.slice(1), value, path);
    } else {
      this.scalar(field.type, value, path);
    }
  }
}

function camel(name: string): string { return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()); }

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The problems Envoy would reject `bootstrap` for (empty when it would accept its shape). */
export function validateBootstrap(bootstrap: unknown): string[] {
  const checker = new Checker(envoyApi());
  checker.message('envoy.config.bootstrap.v3.Bootstrap', bootstrap, '');
  return checker.errors;
}
