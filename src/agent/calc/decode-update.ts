import {
  effectivePolicyTypes,
  hostCidr,
  parseIp,
  parseResourceKey,
  validateKind,
  type FelixConfiguration,
  type GlobalNetworkPolicy,
  type NetworkPolicy,
  type Profile,
  type Rule,
  type Selector,
} from '../../model/index.js';
import { ownString, type Logger, type StringCache } from '../../lib/index.js';
import { readEndpointRecord, type EndpointRecord } from './endpoint-record.js';
import type { PoolInfo } from './model.js';
import { entitySelector, scopedSelector, type RuleScope } from './parse-rule.js';

/** A policy as the calculation keeps it (NetworkPolicy or GlobalNetworkPolicy). */
export interface PolicyRecord {
  /** `np/<namespace>/<name>` or `gnp/<name>`. */
  readonly id: string;
  readonly name: string;
  readonly tier: string;
  readonly order: number;
  readonly ingressOn: boolean;
  readonly egressOn: boolean;
  readonly ingress: readonly Rule[];
  readonly egress: readonly Rule[];
  readonly scope: RuleScope;
  /** Which endpoints it applies to (already scoped to its namespace). */
  readonly selector: Selector;
}

/** One datastore change: a key and its new value (undefined = deleted). */
export interface KvChange {
  readonly key: string;
  readonly value: string | undefined;
}

/**
 * A datastore change as the calculation's units take it: typed and validated. `undefined` in a
 * payload means the object is gone, or was invalid and is treated as gone (fail closed).
 */
export type CalcEvent =
  | { readonly kind: 'endpoint'; readonly id: string; readonly record: EndpointRecord | undefined }
  | { readonly kind: 'hostEndpoint'; readonly id: string; readonly record: EndpointRecord | undefined }
  | { readonly kind: 'policy'; readonly id: string; readonly policy: PolicyRecord | undefined }
  | { readonly kind: 'profile'; readonly name: string; readonly profile: Profile | undefined }
  | { readonly kind: 'felixConfig'; readonly name: string; readonly spec: FelixConfiguration['spec'] | undefined }
  | { readonly kind: 'pool'; readonly name: string; readonly pool: PoolInfo | undefined };

export const DEFAULT_TIER = 'default';

/**
 * The validation filter (Felix's first calculation stage): turns a datastore change into a
 * typed event, or nothing for keys the agent does not use. An invalid value is logged and
 * becomes a deletion (the endpoint, policy or profile is treated as absent: fail closed), except
 * an invalid FelixConfiguration, which is ignored so the last good one stays. Pure but for the log
 * (and `strings`, where label values are shared).
 */
export function decodeUpdate(change: KvChange, hostname: string, log: Logger, strings?: StringCache): CalcEvent | undefined {
  const id = parseResourceKey(change.key);
  if (id === undefined) return undefined;
  const { value } = change;
  switch (id.kind) {
    case 'WorkloadEndpoint': {
      // Kept for every endpoint of the cluster: a flat copy, not slices of the datastore key.
      const epId = ownString(`${id.namespace ?? ''}/${id.name}`);
      const record = value === undefined ? undefined : readEndpointRecord(value, id.namespace ?? '', hostname, strings);
      if (value !== undefined && record === undefined) log.warn({ endpoint: epId }, 'Ignoring an invalid WorkloadEndpoint (treated as absent)');
      return { kind: 'endpoint', id: epId, record };
    }
    case 'HostEndpoint':
      return { kind: 'hostEndpoint', id: `hostendpoint:${id.name}`, record: value === undefined ? undefined : hostEndpointRecord(id.name, value, log) };
    case 'NetworkPolicy':
      return decodePolicy(`np/${id.namespace ?? ''}/${id.name}`, value, { namespace: id.namespace ?? '' }, log);
    case 'GlobalNetworkPolicy':
      return decodePolicy(`gnp/${id.name}`, value, {}, log);
    case 'Profile':
      return {
        kind: 'profile',
        name: id.name,
        profile:
          value === undefined
            ? undefined
            : parseOr(log, { profile: id.name }, 'Ignoring an invalid profile (treated as absent: deny)', () => validateKind('Profile', JSON.parse(value))),
      };
    case 'FelixConfiguration': {
      if (id.name !== 'default' && id.name !== `node.${hostname}`) return undefined;
      if (value === undefined) return { kind: 'felixConfig', name: id.name, spec: undefined };
      const config = parseOr(log, { name: id.name }, 'Ignoring an invalid FelixConfiguration', () => validateKind('FelixConfiguration', JSON.parse(value)));
      return config === undefined ? undefined : { kind: 'felixConfig', name: id.name, spec: config.spec };
    }
    case 'IPPool': {
      const pool =
        value === undefined ? undefined : parseOr(log, { name: id.name }, 'Ignoring an invalid IPPool', () => validateKind('IPPool', JSON.parse(value)));
      // A disabled pool still describes addresses in use: it counts for the "all pools" set.
      return { kind: 'pool', name: id.name, pool: pool === undefined ? undefined : { cidr: pool.spec.cidr, natOutgoing: pool.spec.natOutgoing === true } };
    }
    default:
      return undefined;
  }
}

function parseOr<T>(log: Logger, fields: Record<string, string>, message: string, parse: () => T): T | undefined {
  try {
    return parse();
  } catch (err) {
    log.warn({ ...fields, err: String(err) }, message);
    return undefined;
  }
}

/**
 * Host endpoints take part in selectors as Calico's do: their labels and expected IPs make them
 * members of rule IP sets. (Policy on host interfaces is not enforced yet.)
 */
function hostEndpointRecord(name: string, value: string, log: Logger): EndpointRecord | undefined {
  const hep = parseOr(log, { hostEndpoint: name }, 'Ignoring an invalid HostEndpoint (treated as absent)', () =>
    validateKind('HostEndpoint', JSON.parse(value)),
  );
  if (hep === undefined) return undefined;
  return {
    labels: { ...(hep.metadata.labels ?? {}) },
    nets: (hep.spec.expectedIPs ?? []).flatMap((ip) => {
      const p = parseIp(ip);
      return p === undefined ? [] : [hostCidr(p)];
    }),
  };
}

function decodePolicy(id: string, value: string | undefined, scope: RuleScope, log: Logger): CalcEvent {
  if (value === undefined) return { kind: 'policy', id, policy: undefined };
  const kind = scope.namespace === undefined ? 'GlobalNetworkPolicy' : 'NetworkPolicy';
  const policy = parseOr(log, { policy: id }, 'Ignoring an invalid policy (treated as absent)', (): PolicyRecord => {
    const pol: NetworkPolicy | GlobalNetworkPolicy = validateKind(kind, JSON.parse(value));
    const types = effectivePolicyTypes(pol.spec);
    const spec = pol.spec as typeof pol.spec & { namespaceSelector?: string };
    const selector =
      spec.namespaceSelector === undefined && spec.serviceAccountSelector === undefined
        ? scopedSelector(spec.selector ?? 'all()', scope)
        : entitySelector(
            spec.selector,
            {
              namespaceSelector: spec.namespaceSelector,
              ...(spec.serviceAccountSelector === undefined ? {} : { serviceAccounts: { selector: spec.serviceAccountSelector } }),
            },
            scope,
          );
    return {
      id,
      name: pol.metadata.name,
      tier: pol.spec.tier ?? DEFAULT_TIER,
      order: pol.spec.order ?? Number.POSITIVE_INFINITY,
      ingressOn: types.includes('Ingress'),
      egressOn: types.includes('Egress'),
      ingress: pol.spec.ingress ?? [],
      egress: pol.spec.egress ?? [],
      scope,
      selector,
    };
  });
  return { kind: 'policy', id, policy };
}
