/**
 * Test helper, Felix's state-sequence style: feed the calculation graph a sequence of datastore
 * updates and get, after each step, the whole desired state the dataplane would hold by then
 * (every flush folded in), checked for the invariants the dataplane relies on. Pure: no kernel,
 * no clock, no datastore.
 */
import { CalcGraph, type KvChange } from '../calc-graph.js';
import type { ActiveRules, LocalEndpoint, PoolInfo } from '../model.js';

/** What the dataplane holds after the flushes so far. */
export interface DesiredState {
  readonly endpoints: ReadonlyMap<string, LocalEndpoint>;
  readonly rules: ReadonlyMap<string, ActiveRules>;
  /** IP set id → members (sorted). */
  readonly ipSets: ReadonlyMap<string, readonly string[]>;
  readonly pools: readonly PoolInfo[];
}

export class StateSequence {
  readonly graph: CalcGraph;
  readonly #endpoints = new Map<string, LocalEndpoint>();
  readonly #rules = new Map<string, ActiveRules>();
  readonly #ipSets = new Map<string, Set<string>>();
  #pools: readonly PoolInfo[] = [];

  constructor(hostname: string) {
    this.graph = new CalcGraph({ hostname });
  }

  /** Applies `updates`, flushes, folds the flush in; throws if an invariant breaks. */
  step(updates: readonly KvChange[]): DesiredState {
    this.graph.onUpdates(updates);
    const u = this.graph.flush();
    for (const [id, members] of u.ipSets) {
      if (members === undefined) this.#ipSets.delete(id);
      else this.#ipSets.set(id, new Set(members));
    }
    for (const [id, d] of u.ipSetDeltas) {
      const set = this.#ipSets.get(id);
      if (set === undefined) throw new Error(`a delta for IP set ${id}, which the dataplane does not have`);
      for (const m of d.removed) set.delete(m);
      for (const m of d.added) set.add(m);
    }
    for (const [id, r] of u.rules) {
      if (r === undefined) this.#rules.delete(id);
      else this.#rules.set(id, r);
    }
    for (const [id, ep] of u.endpoints) {
      if (ep === undefined) this.#endpoints.delete(id);
      else this.#endpoints.set(id, ep);
    }
    if (u.pools !== undefined) this.#pools = u.pools;
    const state = this.state();
    checkInvariants(state);
    return state;
  }

  state(): DesiredState {
    return {
      endpoints: new Map(this.#endpoints),
      rules: new Map(this.#rules),
      ipSets: new Map([...this.#ipSets].map(([id, s]) => [id, [...s].sort()])),
      pools: this.#pools,
    };
  }
}

/**
 * What the dataplane relies on: every policy or profile a local endpoint names has its rules;
 * every IP set a rule names exists; no rules or sets nothing uses (they would be programmed
 * for nothing and never cleaned up).
 */
export function checkInvariants(s: DesiredState): void {
  const named = new Set<string>();
  for (const ep of s.endpoints.values()) {
    for (const t of ep.tiers) for (const id of [...t.ingress, ...t.egress]) named.add(id);
    for (const id of ep.profileIds) named.add(id);
  }
  for (const id of named) if (!s.rules.has(id)) throw new Error(`an endpoint names ${id}, which has no rules`);
  for (const id of s.rules.keys()) if (!named.has(id)) throw new Error(`rules of ${id}, which no local endpoint uses`);
  const sets = new Set<string>();
  for (const r of s.rules.values()) {
    for (const rule of [...r.ingress, ...r.egress])
      for (const id of [...rule.srcIpSetIds, ...rule.dstIpSetIds, ...rule.notSrcIpSetIds, ...rule.notDstIpSetIds]) sets.add(id);
  }
  for (const id of sets) if (!s.ipSets.has(id)) throw new Error(`a rule names IP set ${id}, which does not exist`);
  for (const id of s.ipSets.keys()) if (!sets.has(id)) throw new Error(`IP set ${id}, which no rule names`);
}

/** A comparable text of a state (for "same final state whatever the order" checks). */
export function stateText(s: DesiredState): string {
  const sorted = <T>(m: ReadonlyMap<string, T>): [string, T][] => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({ endpoints: sorted(s.endpoints), rules: sorted(s.rules), ipSets: sorted(s.ipSets), pools: s.pools });
}
