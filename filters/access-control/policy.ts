// Matching a request against policies. Each policy indexes its rules by the exact paths, hosts
// or methods they require, so a request is checked only against the rules that could match it
// (plus the rules no index applies to): 1000 rules on distinct paths cost about what 10 do.
import { addressWithoutPort, asciiLowerCase } from "../../assembly";
import { MatchField, OperationMatch, Policy, Rule, SourceMatch } from "./config";
import { evaluate } from "./expression";
import { anyMatches } from "./matchers";
import { RequestView } from "./request";

function fieldMatches(field: MatchField, value: string | null): bool {
  if (field.positive.length > 0 && !anyMatches(field.positive, value)) return false;
  if (field.negative.length > 0 && anyMatches(field.negative, value)) return false;
  if (field.positiveCidrs.length > 0 || field.negativeCidrs.length > 0) {
    let inPositive = false;
    let inNegative = false;
    if (value !== null) {
      for (let i = 0; i < field.positiveCidrs.length && !inPositive; i++) inPositive = field.positiveCidrs[i].contains(value);
      for (let i = 0; i < field.negativeCidrs.length && !inNegative; i++) inNegative = field.negativeCidrs[i].contains(value);
    }
    if (field.positiveCidrs.length > 0 && !inPositive) return false;
    if (inNegative) return false;
  }
  return true;
}

/** Hosts match with or without the port: a positive entry may match either form, a negative one must match neither. */
function hostMatches(field: MatchField, host: string): bool {
  const bare = addressWithoutPort(host);
  if (field.positive.length > 0 && !anyMatches(field.positive, host) && !anyMatches(field.positive, bare)) return false;
  return !(field.negative.length > 0 && (anyMatches(field.negative, host) || anyMatches(field.negative, bare)));
}

function sourceMatches(s: SourceMatch, r: RequestView): bool {
  return fieldMatches(s.ipBlocks, r.sourceAddress()) &&
    (s.principals.empty || fieldMatches(s.principals, r.principal())) &&
    (s.requestPrincipals.empty || fieldMatches(s.requestPrincipals, r.requestPrincipal())) &&
    (s.namespaces.empty || fieldMatches(s.namespaces, r.sourceNamespace())) &&
    (s.consumers.empty || fieldMatches(s.consumers, r.consumer()));
}

function operationMatches(o: OperationMatch, r: RequestView): bool {
  if (!o.hosts.empty && !hostMatches(o.hosts, r.host())) return false;
  return (o.ports.empty || fieldMatches(o.ports, r.destinationPort())) &&
    (o.methods.empty || fieldMatches(o.methods, r.method())) &&
    (o.paths.empty || fieldMatches(o.paths, r.urlPath()));
}

export function ruleMatches(rule: Rule, r: RequestView): bool {
  if (rule.sources.length > 0) {
    let any = false;
    for (let i = 0; i < rule.sources.length && !any; i++) any = sourceMatches(rule.sources[i], r);
    if (!any) return false;
  }
  if (rule.operations.length > 0) {
    let any = false;
    for (let i = 0; i < rule.operations.length && !any; i++) any = operationMatches(rule.operations[i], r);
    if (!any) return false;
  }
  for (let i = 0; i < rule.when.length; i++) if (!evaluate(rule.when[i], r)) return false;
  return true;
}

/** The exact values every operation of `rule` requires for one field, or null when it is not that strict. */
function requiredValues(rule: Rule, pick: (o: OperationMatch) => MatchField): string[] | null {
  if (rule.operations.length == 0) return null;
  const out = new Array<string>();
  for (let i = 0; i < rule.operations.length; i++) {
    const field = pick(rule.operations[i]);
    if (field.positive.length == 0) return null;
    for (let j = 0; j < field.positive.length; j++) {
      const exact = field.positive[j].exactValue();
      if (exact === null) return null;
      out.push(exact);
    }
  }
  return out;
}

class Index {
  byKey: Map<string, i32[]> = new Map();
  add(key: string, rule: i32): void {
    if (!this.byKey.has(key)) this.byKey.set(key, []);
    const list = this.byKey.get(key);
    if (list.length == 0 || list[list.length - 1] != rule) list.push(rule);
  }
  get(key: string): i32[] | null { return this.byKey.has(key) ? this.byKey.get(key) : null; }
}

export class IndexedPolicy {
  private byPath: Index = new Index();
  private byHost: Index = new Index();
  private byMethod: Index = new Index();
  private unindexed: i32[] = [];

  constructor(public policy: Policy) {
    for (let i = 0; i < policy.rules.length; i++) {
      const rule = policy.rules[i];
      const paths = requiredValues(rule, (o: OperationMatch): MatchField => o.paths);
      if (paths !== null) { for (let k = 0; k < paths.length; k++) this.byPath.add(paths[k], i); continue; }
      const hosts = requiredValues(rule, (o: OperationMatch): MatchField => o.hosts);
      if (hosts !== null) { for (let k = 0; k < hosts.length; k++) this.byHost.add(hosts[k], i); continue; }
      const methods = requiredValues(rule, (o: OperationMatch): MatchField => o.methods);
      if (methods !== null) { for (let k = 0; k < methods.length; k++) this.byMethod.add(methods[k], i); continue; }
      this.unindexed.push(i);
    }
  }

  /** The index of the first rule that matches, or -1. */
  firstMatch(r: RequestView): i32 {
    let best: i32 = -1;
    best = this.scan(this.byPath.get(r.urlPath()), r, best);
    best = this.scan(this.byHost.get(asciiLowerCase(addressWithoutPort(r.host()))), r, best);
    best = this.scan(this.byHost.get(asciiLowerCase(r.host())), r, best);
    best = this.scan(this.byMethod.get(r.method()), r, best);
    return this.scan(this.unindexed, r, best);
  }

  /** Checks the candidates below `best` in order; returns the lowest matching rule index. */
  private scan(candidates: i32[] | null, r: RequestView, best: i32): i32 {
    if (candidates === null) return best;
    for (let i = 0; i < candidates.length; i++) {
      const index = candidates[i];
      if (best >= 0 && index >= best) break;
      if (ruleMatches(this.policy.rules[index], r)) return index;
    }
    return best;
  }
}

