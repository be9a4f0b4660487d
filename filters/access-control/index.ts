// access-control: allow and deny in the proxy, in the shape of Istio's AuthorizationPolicy and
// Envoy's RBAC filter, with API keys and the claims of JWTs verified by Envoy's jwt_authn.
export * from "../../assembly/proxy";
import {
  Context, Counter, FilterHeadersStatusValues, GrpcStatusValues, HeaderPair, LogLevelValues, PeerMetadataCounters, RootContext,
  log, logEnabled, registerRootContext, send_local_response,
} from "../../assembly";
import { ACTION_AUDIT, ACTION_DENY, AccessConfig, Reply, parseConfig } from "./config";
import { IndexedPolicy } from "./policy";
import { RequestView } from "./request";

class AccessRoot extends RootContext {
  config: AccessConfig = new AccessConfig();
  deny: IndexedPolicy[] = [];
  allow: IndexedPolicy[] = [];
  dryRunAllow: IndexedPolicy[] = [];
  audit: IndexedPolicy[] = [];
  private counters: Map<string, Counter> = new Map();
  readonly peerCounters: PeerMetadataCounters = new PeerMetadataCounters("access_control");

  onConfigure(size: u32): bool {
    const parsed = parseConfig(this.getConfiguration());
    if (parsed.config === null) {
      log(LogLevelValues.error, parsed.error);
      return false;
    }
    const config = parsed.config!;
    const deny = new Array<IndexedPolicy>();
    const allow = new Array<IndexedPolicy>();
    const dryRunAllow = new Array<IndexedPolicy>();
    const audit = new Array<IndexedPolicy>();
    for (let i = 0; i < config.policies.length; i++) {
      const p = config.policies[i];
      const indexed = new IndexedPolicy(p);
      if (p.action == ACTION_DENY) deny.push(indexed);
      else if (p.action == ACTION_AUDIT) audit.push(indexed);
      else if (p.dryRun) dryRunAllow.push(indexed);
      else allow.push(indexed);
    }
    this.config = config;
    this.deny = deny;
    this.allow = allow;
    this.dryRunAllow = dryRunAllow;
    this.audit = audit;
    return true;
  }

  /** Counts an outcome for a policy and rule; counters are defined on first use. */
  count(policy: string, rule: string, outcome: string): void {
    const name = "access_control." + policy + "." + rule + "." + outcome;
    if (!this.counters.has(name)) this.counters.set(name, new Counter(name));
    this.counters.get(name).increment(1);
  }

  createContext(id: u32): Context { return new AccessControl(id, this); }
}

class AccessControl extends Context {
  private get accessRoot(): AccessRoot { return this.root_context as AccessRoot; }

  onRequestHeaders(count: u32, end_of_stream: bool): FilterHeadersStatusValues {
    const root = this.accessRoot;
    const config = root.config;
    const r = new RequestView(config, root.peerCounters);
    // Rules see the path as Envoy normalizes it; a path that cannot be normalized is denied.
    r.path();
    if (r.attributeProblem.length > 0) return this.failClosed(r);

    // Credentials first: a presented credential that is not valid answers 401.
    if (config.apiKeys !== null) r.consumer();
    if (config.jwt !== null) r.claims();
    if (r.credentialProblem.length > 0) {
      root.count("credentials", "invalid", "denied");
      return this.deny(config.unauthenticated, "credentials", "invalid", r.credentialProblem);
    }

    for (let i = 0; i < root.deny.length; i++) {
      const p = root.deny[i];
      const rule = p.firstMatch(r);
      if (r.attributeProblem.length > 0) return this.failClosed(r);
      if (rule < 0) continue;
      const ruleName = p.policy.rules[rule].name;
      if (p.policy.dryRun) {
        root.count(p.policy.name, ruleName, "dry_run_denied");
        log(LogLevelValues.info, "dry run: policy " + p.policy.name + " rule " + ruleName + " would deny " + this.describe(r));
        continue;
      }
      root.count(p.policy.name, ruleName, "denied");
      return this.deny(config.denied, p.policy.name, ruleName, "matched a DENY rule");
    }

    for (let i = 0; i < root.audit.length; i++) {
      const p = root.audit[i];
      const rule = p.firstMatch(r);
      if (rule < 0) continue;
      root.count(p.policy.name, p.policy.rules[rule].name, "audited");
      log(LogLevelValues.info, "audit: policy " + p.policy.name + " rule " + p.policy.rules[rule].name + " matched " + this.describe(r));
    }

    this.recordDryRunAllow(r);

    if (root.allow.length == 0) {
      if (r.attributeProblem.length > 0) return this.failClosed(r);
      return FilterHeadersStatusValues.Continue;
    }
    let needsCredentials = false;
    for (let i = 0; i < root.allow.length; i++) {
      const p = root.allow[i];
      const rule = p.firstMatch(r);
      if (r.attributeProblem.length > 0) return this.failClosed(r);
      if (rule >= 0) {
        root.count(p.policy.name, p.policy.rules[rule].name, "allowed");
        if (logEnabled(LogLevelValues.debug)) {
          log(LogLevelValues.debug, "allowed by policy " + p.policy.name + " rule " + p.policy.rules[rule].name);
        }
        return FilterHeadersStatusValues.Continue;
      }
      for (let j = 0; j < p.policy.rules.length && !needsCredentials; j++) needsCredentials = p.policy.rules[j].needsCredentials;
    }
    root.count("no_allow_match", "none", "denied");
    const unauthenticated = needsCredentials && r.withoutCredentials();
    return this.deny(unauthenticated ? config.unauthenticated : config.denied, "no_allow_match", "none",
      unauthenticated ? "no ALLOW rule matched and the request has no credentials" : "no ALLOW rule matched");
  }

  /** Dry-run ALLOW policies record what they would deny. */
  private recordDryRunAllow(r: RequestView): void {
    const root = this.accessRoot;
    if (root.dryRunAllow.length == 0) return;
    for (let i = 0; i < root.dryRunAllow.length; i++) {
      if (root.dryRunAllow[i].firstMatch(r) >= 0) return;
    }
    for (let i = 0; i < root.dryRunAllow.length; i++) {
      root.count(root.dryRunAllow[i].policy.name, "none", "dry_run_denied");
    }
    log(LogLevelValues.info, "dry run: no dry-run ALLOW policy matched " + this.describe(r));
  }

  private failClosed(r: RequestView): FilterHeadersStatusValues {
    this.accessRoot.count("evaluation_error", "none", "denied");
    return this.deny(this.accessRoot.config.denied, "evaluation_error", "none", "evaluation failed: " + r.attributeProblem);
  }

  private describe(r: RequestView): string {
    return r.method() + " " + r.urlPath();
  }

  private deny(reply: Reply, policy: string, rule: string, why: string): FilterHeadersStatusValues {
    // The client learns nothing of the rules: the policy and rule go only to the log.
    log(LogLevelValues.info, "denied (" + reply.status.toString() + ") by policy " + policy + " rule " + rule + ": " + why);
    const headers = new Array<HeaderPair>();
    for (let i = 0; i < reply.headers.length; i++) headers.push(reply.headers[i]);
    send_local_response(reply.status, "rbac_access_denied_matched_policy[" + policy + "]", String.UTF8.encode(reply.body), headers,
      reply.status == 401 ? GrpcStatusValues.Unauthenticated : GrpcStatusValues.PermissionDenied);
    return FilterHeadersStatusValues.StopIteration;
  }
}

registerRootContext((id: u32): RootContext => new AccessRoot(id), "access-control");
