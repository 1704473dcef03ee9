import { silentLogger } from '../../lib/index.js';
import { matchSelector, type Rule } from '../../model/index.js';
import { decodeUpdate, type KvChange, type PolicyRecord } from './decode-update.js';
import { resolveTiers } from './resolve-tiers.js';

/** One policy as it applies to an endpoint: its identity, its position and its rules for one direction. */
export interface AppliedPolicy {
  readonly kind: 'NetworkPolicy' | 'GlobalNetworkPolicy';
  readonly name: string;
  readonly namespace?: string;
  /** Unset order sorts last (Calico's rule). */
  readonly order: number | undefined;
  readonly rules: readonly Rule[];
}

/** The policies one endpoint meets, tier by tier in the order the dataplane evaluates them. */
export interface AppliedTier {
  readonly name: string;
  readonly ingress: readonly AppliedPolicy[];
  readonly egress: readonly AppliedPolicy[];
}

/**
 * The policies that apply to one workload endpoint and their order, by the same validation
 * filter, selector scoping and policy resolver the agent programs from (so the console's VM page
 * shows exactly what the host enforces). `endpoint` and `policies` are datastore keys with their
 * stored values; invalid values count as absent, as they do in the agent. Pure.
 */
export function applyingPolicies(endpoint: KvChange, policies: Iterable<KvChange>): AppliedTier[] {
  const log = silentLogger();
  const ep = decodeUpdate(endpoint, '', log);
  if (ep?.kind !== 'endpoint' || ep.record === undefined) return [];
  const labels = ep.record.labels;
  const matched = new Map<string, PolicyRecord>();
  for (const change of policies) {
    const ev = decodeUpdate(change, '', log);
    if (ev?.kind !== 'policy' || ev.policy === undefined) continue;
    if (matchSelector(ev.policy.selector, labels)) matched.set(ev.policy.id, ev.policy);
  }
  const applied = (id: string, dir: 'ingress' | 'egress'): AppliedPolicy => {
    const p = matched.get(id);
    if (p === undefined) throw new Error(`policy ${id} vanished`); // resolveTiers only returns ids it was given
    const namespace = p.scope.namespace;
    return {
      kind: namespace === undefined ? 'GlobalNetworkPolicy' : 'NetworkPolicy',
      name: p.name,
      ...(namespace === undefined ? {} : { namespace }),
      order: Number.isFinite(p.order) ? p.order : undefined,
      rules: p[dir],
    };
  };
  return resolveTiers(matched.values()).map((t) => ({
    name: t.name,
    ingress: t.ingress.map((id) => applied(id, 'ingress')),
    egress: t.egress.map((id) => applied(id, 'egress')),
  }));
}
