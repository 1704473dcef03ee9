import { parseCidrOrIp, parseSelector, prefixSelectorKeys, protocolKey, type EntityRule, type Port, type Rule, type Selector } from '../../model/index.js';
import type { ParsedRule, PortRange } from './model.js';

/** Why a rule could not be rendered (the rule is skipped and the reason logged). */
export interface RuleProblem {
  readonly reason: string;
}

/** Where a rule's selectors live: a NetworkPolicy's rule selectors see only its namespace. */
export interface RuleScope {
  readonly namespace?: string;
}

/** Calls back with each selector a rule uses, so the caller can keep an IP set for it. */
export type SelectorSink = (sel: Selector) => string;

function canonicalNets(nets: readonly string[] | undefined): string[] {
  const out: string[] = [];
  for (const n of nets ?? []) {
    const p = parseCidrOrIp(n);
    if (p !== undefined) out.push(`${p.network}/${p.prefixLength}`);
  }
  return out;
}

function portRanges(ports: readonly Port[] | undefined): PortRange[] | RuleProblem {
  const out: PortRange[] = [];
  for (const p of ports ?? []) {
    if (typeof p === 'number') {
      out.push({ first: p, last: p });
      continue;
    }
    const range = /^(\d+):(\d+)$/.exec(p);
    if (range !== null) out.push({ first: Number(range[1]), last: Number(range[2]) });
    else if (/^\d+$/.test(p)) out.push({ first: Number(p), last: Number(p) });
    else return { reason: `named port ${JSON.stringify(p)} is not supported` };
  }
  return out;
}

/** The label Calico gives an endpoint for its service account, and the prefixes of copied labels. */
export const SERVICE_ACCOUNT_LABEL = 'projectcalico.org/serviceaccount';
export const NAMESPACE_LABEL_PREFIX = 'pcns.';
export const SERVICE_ACCOUNT_LABEL_PREFIX = 'pcsa.';

const and = (a: Selector, b: Selector): Selector => ({ op: '&&', left: a, right: b });

/** A selector scoped like Calico scopes it: inside a NetworkPolicy, to the policy's namespace. */
export function scopedSelector(text: string, scope: RuleScope): Selector {
  if (scope.namespace === undefined) return parseSelector(text);
  const inner = text.trim() === '' ? 'all()' : text;
  return parseSelector(`(${inner}) && projectcalico.org/namespace == ${JSON.stringify(scope.namespace)}`);
}

/**
 * `selector` narrowed by a namespace selector (matched against the namespace's labels, copied
 * onto endpoints with the `pcns.` prefix; without one, a NetworkPolicy's own namespace) and by
 * service accounts (names, and a selector over the account's labels, copied with `pcsa.`).
 */
export function entitySelector(
  selector: string | undefined,
  o: { namespaceSelector?: string | undefined; serviceAccounts?: { names?: readonly string[] | undefined; selector?: string | undefined } | undefined },
  scope: RuleScope,
): Selector {
  let sel: Selector;
  if (o.namespaceSelector !== undefined)
    sel = and(parseSelector(selector ?? 'all()'), prefixSelectorKeys(parseSelector(o.namespaceSelector), NAMESPACE_LABEL_PREFIX));
  else sel = scopedSelector(selector ?? 'all()', scope);
  const sa = o.serviceAccounts;
  if (sa !== undefined) {
    sel = and(
      sel,
      sa.names !== undefined && sa.names.length > 0 ? { op: 'in', key: SERVICE_ACCOUNT_LABEL, values: sa.names } : { op: 'has', key: SERVICE_ACCOUNT_LABEL },
    );
    if (sa.selector !== undefined) sel = and(sel, prefixSelectorKeys(parseSelector(sa.selector), SERVICE_ACCOUNT_LABEL_PREFIX));
  }
  return sel;
}

interface Side {
  nets: string[];
  notNets: string[];
  sets: string[];
  notSets: string[];
  ports: PortRange[];
  notPorts: PortRange[];
}

function parseSide(entity: EntityRule | undefined, scope: RuleScope, sink: SelectorSink): Side | RuleProblem {
  const e = entity ?? {};
  if (e.services !== undefined) return { reason: 'services are not supported' };
  const ports = portRanges(e.ports);
  if ('reason' in ports) return ports;
  const notPorts = portRanges(e.notPorts);
  if ('reason' in notPorts) return notPorts;
  const narrowed = e.namespaceSelector !== undefined || e.serviceAccounts !== undefined;
  return {
    nets: canonicalNets(e.nets),
    notNets: canonicalNets(e.notNets),
    sets: e.selector === undefined && !narrowed ? [] : [sink(entitySelector(e.selector, e, scope))],
    notSets: e.notSelector === undefined ? [] : [sink(scopedSelector(e.notSelector, scope))],
    ports,
    notPorts,
  };
}

/**
 * A Deny (or Pass) rule Brindle cannot render exactly, made wider instead of dropped, so policy
 * fails closed: the matches it cannot express (named ports, services, HTTP) are left out, so the
 * rule denies at least what it should.
 */
export function widenRule(rule: Rule): Rule {
  const widenSide = (e: EntityRule | undefined): EntityRule | undefined => {
    if (e === undefined) return undefined;
    const { services: _services, ...rest } = e;
    const named = (ports: readonly Port[] | undefined): boolean => (ports ?? []).some((p) => typeof p === 'string' && !/^\d+(:\d+)?$/.test(p));
    const out: EntityRule = { ...rest };
    if (named(out.ports)) delete out.ports;
    if (named(out.notPorts)) delete out.notPorts;
    return out;
  };
  const { http: _http, ...rest } = rule;
  const source = widenSide(rule.source);
  const destination = widenSide(rule.destination);
  const { source: _s, destination: _d, ...bare } = rest;
  return { ...bare, ...(source === undefined ? {} : { source }), ...(destination === undefined ? {} : { destination }) };
}

/**
 * Turns a Calico rule into the dataplane's form: canonical protocol names and CIDRs, port
 * ranges, selectors replaced by IP set ids (through `sink`). Returns a RuleProblem for features
 * Brindle does not render (named ports, namespace or service-account selectors, HTTP matches);
 * the caller skips such a rule, which fails closed for Allow rules.
 */
export function parseRule(rule: Rule, scope: RuleScope, sink: SelectorSink): ParsedRule | RuleProblem {
  if (rule.http !== undefined) return { reason: 'HTTP matches are not supported' };
  const src = parseSide(rule.source, scope, sink);
  if ('reason' in src) return src;
  const dst = parseSide(rule.destination, scope, sink);
  if ('reason' in dst) return dst;
  return {
    action: rule.action,
    ...(rule.ipVersion === undefined ? {} : { ipVersion: rule.ipVersion }),
    ...(rule.protocol === undefined ? {} : { protocol: protocolKey(rule.protocol) }),
    ...(rule.notProtocol === undefined ? {} : { notProtocol: protocolKey(rule.notProtocol) }),
    srcNets: src.nets,
    notSrcNets: src.notNets,
    dstNets: dst.nets,
    notDstNets: dst.notNets,
    srcIpSetIds: src.sets,
    notSrcIpSetIds: src.notSets,
    dstIpSetIds: dst.sets,
    notDstIpSetIds: dst.notSets,
    srcPorts: src.ports,
    notSrcPorts: src.notPorts,
    dstPorts: dst.ports,
    notDstPorts: dst.notPorts,
    ...(rule.icmp?.type === undefined ? {} : { icmpType: rule.icmp.type }),
    ...(rule.icmp?.code === undefined ? {} : { icmpCode: rule.icmp.code }),
    ...(rule.notICMP?.type === undefined ? {} : { notIcmpType: rule.notICMP.type }),
    ...(rule.notICMP?.code === undefined ? {} : { notIcmpCode: rule.notICMP.code }),
  };
}
