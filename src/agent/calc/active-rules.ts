import { LabelIndex, type Labels, type Profile } from '../../model/index.js';
import type { PolicyRecord } from './decode-update.js';
import type { RulesSource } from './rule-scanner.js';

/** Where the calculator reports what became active, inactive, or changed for an endpoint. */
export interface ActiveRulesListener {
  /** A policy or profile now applies to a local endpoint, or its rules changed while it does. */
  onActive(id: string, source: RulesSource): void;
  /** It no longer applies to any local endpoint. */
  onInactive(id: string): void;
  /** The policies of a local endpoint (or their order or rules) may have changed. */
  onEndpointPolicies(endpointId: string): void;
}

/**
 * The active rules calculator (Felix's ActiveRulesCalculator): which policies and profiles apply
 * to at least one endpoint on this host. Policies are matched against local endpoints through
 * one label index; profiles are active while a local endpoint names them. Only active ones are
 * parsed (by the rule scanner, through the listener), so a cluster's thousands of policies cost
 * only what this host uses.
 */
export class ActiveRulesCalculator {
  readonly #listener: ActiveRulesListener;
  readonly #policies = new Map<string, PolicyRecord>();
  readonly #profiles = new Map<string, Profile>();
  /** Policy selectors against local endpoints. */
  readonly #index: LabelIndex<string, string>;
  readonly #matchCount = new Map<string, number>();
  /** The profiles each local endpoint names, and how many local endpoints name each. */
  readonly #endpointProfiles = new Map<string, readonly string[]>();
  readonly #profileRefs = new Map<string, number>();
  readonly #active = new Set<string>();

  constructor(listener: ActiveRulesListener) {
    this.#listener = listener;
    this.#index = new LabelIndex<string, string>({
      onMatchStarted: (pol, ep) => this.#policyMatch(pol, ep, +1),
      onMatchStopped: (pol, ep) => this.#policyMatch(pol, ep, -1),
    });
  }

  get policyCount(): number {
    return this.#policies.size;
  }

  isActive(id: string): boolean {
    return this.#active.has(id);
  }

  /** The policies that apply to a local endpoint (unordered; see `resolveTiers`). */
  *policiesOf(endpointId: string): Iterable<PolicyRecord> {
    for (const id of this.#index.selectorsMatching(endpointId)) {
      const p = this.#policies.get(id);
      if (p !== undefined) yield p;
    }
  }

  /** A local endpoint appeared or changed (labels, profiles). Profiles it newly names are taken before old ones go. */
  updateLocalEndpoint(id: string, labels: Labels, profiles: readonly string[]): void {
    this.#index.updateLabels(id, labels);
    const old = this.#endpointProfiles.get(id) ?? [];
    this.#endpointProfiles.set(id, profiles);
    for (const name of profiles) this.#profileRef(name, +1);
    for (const name of old) this.#profileRef(name, -1);
  }

  /** A local endpoint went (deleted, moved to another host, or invalid). */
  removeLocalEndpoint(id: string): void {
    this.#index.deleteLabels(id);
    const old = this.#endpointProfiles.get(id) ?? [];
    this.#endpointProfiles.delete(id);
    for (const name of old) this.#profileRef(name, -1);
  }

  updatePolicy(id: string, policy: PolicyRecord | undefined): void {
    if (policy === undefined) {
      if (!this.#policies.delete(id)) return;
      this.#index.deleteSelector(id);
      return;
    }
    const wasActive = this.#active.has(id);
    this.#policies.set(id, policy);
    this.#index.updateSelector(id, policy.selector);
    // Still active across the change: its rules, order or tier may differ.
    if (wasActive && this.#active.has(id)) {
      this.#listener.onActive(id, this.#policySource(policy));
      for (const ep of this.#index.matchesOf(id)) this.#listener.onEndpointPolicies(ep);
    }
  }

  updateProfile(name: string, profile: Profile | undefined): void {
    if (profile === undefined) this.#profiles.delete(name);
    else this.#profiles.set(name, profile);
    // An active profile that is gone or invalid keeps applying, with no rules (deny).
    if (this.#profileRefs.has(name)) this.#listener.onActive(`pro/${name}`, this.#profileSource(name));
  }

  #policyMatch(policyId: string, endpointId: string, delta: number): void {
    this.#listener.onEndpointPolicies(endpointId);
    const n = (this.#matchCount.get(policyId) ?? 0) + delta;
    if (n > 0) this.#matchCount.set(policyId, n);
    else this.#matchCount.delete(policyId);
    if (delta > 0 && n === 1) {
      const p = this.#policies.get(policyId);
      if (p === undefined) return;
      this.#active.add(policyId);
      this.#listener.onActive(policyId, this.#policySource(p));
    }
    if (delta < 0 && n === 0 && this.#active.delete(policyId)) this.#listener.onInactive(policyId);
  }

  #profileRef(name: string, delta: number): void {
    const n = (this.#profileRefs.get(name) ?? 0) + delta;
    if (n > 0) this.#profileRefs.set(name, n);
    else this.#profileRefs.delete(name);
    const id = `pro/${name}`;
    if (delta > 0 && n === 1) {
      this.#active.add(id);
      this.#listener.onActive(id, this.#profileSource(name));
    }
    if (delta < 0 && n === 0 && this.#active.delete(id)) this.#listener.onInactive(id);
  }

  #policySource(p: PolicyRecord): RulesSource {
    return { ingress: p.ingressOn ? p.ingress : [], egress: p.egressOn ? p.egress : [], scope: p.scope };
  }

  #profileSource(name: string): RulesSource {
    const prof = this.#profiles.get(name);
    return { ingress: prof?.spec.ingress ?? [], egress: prof?.spec.egress ?? [], scope: {} };
  }
}
