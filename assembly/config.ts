// Reading a filter's JSON configuration with errors that name the field: the first problem is
// kept as "quotas[0].max_amount: must be a whole number above 0", for proxy_on_configure's log.
import { JsonKind, JsonValue, parseJson } from "./util/json";
import { parseDuration } from "./duration";

export class ConfigReader {
  /** The first problem found ("" while there is none). */
  error: string = "";

  get ok(): bool { return this.error.length == 0; }

  fail(path: string, message: string): void {
    if (this.error.length == 0) this.error = path.length > 0 ? path + ": " + message : message;
  }

  /** Parses the configuration text; null (with `error` set) when it is not a JSON object. */
  parse(text: string): JsonValue | null {
    const parsed = parseJson(text.length == 0 ? "{}" : text);
    if (!parsed.ok) { this.fail("", "configuration is not valid JSON: " + parsed.error); return null; }
    const value = parsed.value!;
    if (!value.isObject()) { this.fail("", "configuration must be a JSON object, got " + value.kindName()); return null; }
    return value;
  }

  /** Checks that `value` is an object whose keys are all in `allowed`. */
  object(value: JsonValue, path: string, allowed: string[]): bool {
    if (!value.isObject()) { this.fail(path, "expected an object, got " + value.kindName()); return false; }
    for (let i = 0; i < value.keys.length; i++) {
      if (!allowed.includes(value.keys[i])) {
        this.fail(join(path, value.keys[i]), "unknown field (expected one of: " + allowed.join(", ") + ")");
        return false;
      }
    }
    return true;
  }

  array(value: JsonValue, path: string): bool {
    if (!value.isArray()) { this.fail(path, "expected a list, got " + value.kindName()); return false; }
    return true;
  }

  /** A required field; records an error when absent. */
  required(obj: JsonValue, key: string, path: string): JsonValue | null {
    const value = obj.get(key);
    if (value === null) this.fail(join(path, key), "is required");
    return value;
  }

  string(obj: JsonValue, key: string, path: string, fallback: string | null = null): string | null {
    const value = obj.get(key);
    if (value === null) {
      if (fallback === null) this.fail(join(path, key), "is required");
      return fallback;
    }
    if (!value.isString()) { this.fail(join(path, key), "expected a string, got " + value.kindName()); return null; }
    return value.string;
  }

  /** A whole number in [min, max]; `fallback` when absent (-1: required). */
  integer(obj: JsonValue, key: string, path: string, min: i64, max: i64, fallback: i64 = -1): i64 {
    const value = obj.get(key);
    if (value === null) {
      if (fallback < 0) this.fail(join(path, key), "is required");
      return fallback;
    }
    if (!value.isInteger()) { this.fail(join(path, key), "expected a whole number, got " + describe(value)); return fallback; }
    const n = <i64>value.number;
    if (n < min || n > max) {
      this.fail(join(path, key), "must be " + (max == i64.MAX_VALUE ? "at least " + min.toString() : "between " + min.toString() + " and " + max.toString()) + ", got " + n.toString());
      return fallback;
    }
    return n;
  }

  /** A number in [min, max]. */
  number(obj: JsonValue, key: string, path: string, min: f64, max: f64, fallback: f64): f64 {
    const value = obj.get(key);
    if (value === null) return fallback;
    if (!value.isNumber()) { this.fail(join(path, key), "expected a number, got " + value.kindName()); return fallback; }
    if (value.number < min || value.number > max) {
      this.fail(join(path, key), "must be between " + formatNumber(min) + " and " + formatNumber(max) + ", got " + formatNumber(value.number));
      return fallback;
    }
    return value.number;
  }

  bool(obj: JsonValue, key: string, path: string, fallback: bool): bool {
    const value = obj.get(key);
    if (value === null) return fallback;
    if (!value.isBool()) { this.fail(join(path, key), "expected true or false, got " + value.kindName()); return fallback; }
    return value.bool;
  }

  /** A duration such as "1s" or "250ms" in nanoseconds, above zero; `fallback` when absent (-1: required). */
  duration(obj: JsonValue, key: string, path: string, fallback: i64 = -1): i64 {
    const value = obj.get(key);
    if (value === null) {
      if (fallback < 0) this.fail(join(path, key), "is required");
      return fallback;
    }
    if (!value.isString()) { this.fail(join(path, key), "expected a duration such as \"1s\" or \"250ms\", got " + value.kindName()); return fallback; }
    const nanos = parseDuration(value.string);
    if (nanos < 0) { this.fail(join(path, key), "\"" + value.string + "\" is not a duration (use e.g. \"1s\", \"250ms\", \"10m\")"); return fallback; }
    if (nanos == 0) { this.fail(join(path, key), "must be longer than zero"); return fallback; }
    return nanos;
  }

  /** One of `choices`; `fallback` when absent. */
  choice(obj: JsonValue, key: string, path: string, choices: string[], fallback: string): string {
    const value = this.string(obj, key, path, fallback);
    if (value === null) return fallback;
    if (!choices.includes(value)) {
      this.fail(join(path, key), "\"" + value + "\" is not one of: " + choices.join(", "));
      return fallback;
    }
    return value;
  }
}

/** A field's path: "a" and "b" make "a.b"; at the top, just "b". */
function join(path: string, key: string): string {
  if (path.length == 0) return key;
  return path + "." + key;
}

function describe(value: JsonValue): string {
  return value.kind == JsonKind.Number ? formatNumber(value.number) : value.kindName();
}

/** Up to three decimals, without pulling the float printer into every module. */
export function formatNumber(n: f64): string {
  const negative = n < 0;
  const scaled = <i64>Math.round(Math.abs(n) * 1000);
  let text = (scaled / 1000).toString();
  const fraction = scaled % 1000;
  if (fraction != 0) {
    let digits = fraction.toString();
    while (digits.length < 3) digits = "0" + digits;
    while (digits.endsWith("0")) digits = digits.substring(0, digits.length - 1);
    text += "." + digits;
  }
  return negative ? "-" + text : text;
}
