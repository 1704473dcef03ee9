import { DEFAULT_TIER, type PolicyRecord } from './decode-update.js';
import type { TierPolicies } from './model.js';

/**
 * The policy resolver (Felix's PolicyResolver): the policies that apply to one endpoint, grouped
 * into tiers and ordered as Calico evaluates them. Within a tier by `order` (unset = last), ties
 * by name; named tiers in name order, the default tier last (its order is unset). A policy
 * counts for a direction only if its types include it. Pure.
 */
export function resolveTiers(policies: Iterable<PolicyRecord>): TierPolicies[] {
  const sorted = [...policies].sort((a, b) => (a.order === b.order ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.order < b.order ? -1 : 1));
  const tiers = new Map<string, { ingress: string[]; egress: string[] }>();
  for (const p of sorted) {
    let t = tiers.get(p.tier);
    if (t === undefined) tiers.set(p.tier, (t = { ingress: [], egress: [] }));
    if (p.ingressOn) t.ingress.push(p.id);
    if (p.egressOn) t.egress.push(p.id);
  }
  const names = [...tiers.keys()].sort((a, b) => (a === DEFAULT_TIER ? 1 : b === DEFAULT_TIER ? -1 : a < b ? -1 : 1));
  return names.map((name) => ({ name, ingress: tiers.get(name)?.ingress ?? [], egress: tiers.get(name)?.egress ?? [] }));
}
