import { API_VERSION, type NetworkPolicy, type Rule } from '../../model/index.js';
import type { SecurityGroupRecord, SecurityGroupRuleRecord } from '../records.js';
import { SG_LABEL_PREFIX } from './port-to-endpoint.js';

/** neutron-lib's IP_PROTOCOL_MAP: names Neutron accepts, and their numbers. */
export const IP_PROTOCOL_MAP: Readonly<Record<string, number>> = {
  ah: 51,
  dccp: 33,
  egp: 8,
  esp: 50,
  gre: 47,
  icmp: 1,
  icmpv6: 58,
  igmp: 2,
  ipip: 4,
  'ipv6-encap': 41,
  'ipv6-frag': 44,
  'ipv6-icmp': 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  'ipv6-route': 43,
  ospf: 89,
  pgm: 113,
  rsvp: 46,
  sctp: 132,
  tcp: 6,
  udp: 17,
  udplite: 136,
  vrrp: 112,
};

const ICMP_NAMES = new Set(['icmp', 'ipv6-icmp', 'icmpv6', '1', '58']);

export function policyName(sgId: string): string {
  return `ossg.default.${sgId}`;
}

export function sgSelector(sgId: string): string {
  return `has(${SG_LABEL_PREFIX}${sgId})`;
}

/** Whether a rule's protocol is ICMP in either family (its port range then means type/code). */
export function isIcmpProtocol(protocol: string | null): boolean {
  return protocol !== null && ICMP_NAMES.has(protocol.toLowerCase());
}

/**
 * One Neutron rule as one Calico rule (networking-calico `_neutron_rule_to_etcd_rule`): always
 * Allow; ICMP as ICMP/ICMPv6 with type and code; other named protocols as their numbers;
 * ingress puts the remote in `source` and ports in `destination`, egress puts both in
 * `destination`; "any" protocol (null, 0, -1, "any") is omitted.
 */
export function ruleToCalico(rule: SecurityGroupRuleRecord): Rule {
  const ipVersion = rule.ethertype === 'IPv6' ? 6 : 4;
  const out: Rule = { action: 'Allow', ipVersion };
  const proto = rule.protocol?.toLowerCase() ?? null;
  const ports: (number | string)[] = [];
  if (proto !== null && !['any', '0', '-1'].includes(proto)) {
    if (isIcmpProtocol(proto)) {
      out.protocol = ipVersion === 6 ? 'ICMPv6' : 'ICMP';
      const icmp: { type?: number; code?: number } = {};
      if (rule.port_range_min !== null && rule.port_range_min !== -1) icmp.type = rule.port_range_min;
      if (icmp.type !== undefined && rule.port_range_max !== null && rule.port_range_max !== -1) icmp.code = rule.port_range_max;
      if (icmp.type !== undefined) out.icmp = icmp;
    } else {
      out.protocol = /^\d+$/.test(proto) ? Number(proto) : (IP_PROTOCOL_MAP[proto] ?? proto.toUpperCase());
      const min = rule.port_range_min;
      const max = rule.port_range_max;
      if (min !== null && min !== -1) ports.push(max === null || max === min ? min : `${min}:${max}`);
    }
  }
  const remote: { selector?: string; nets?: string[] } = {};
  if (rule.remote_group_id !== null) remote.selector = sgSelector(rule.remote_group_id);
  if (rule.remote_ip_prefix !== null) remote.nets = [rule.remote_ip_prefix];
  const withPorts = ports.length > 0 ? { ports } : {};
  if (rule.direction === 'ingress') {
    if (Object.keys(remote).length > 0) out.source = remote;
    if (ports.length > 0) out.destination = withPorts;
  } else if (Object.keys(remote).length > 0 || ports.length > 0) {
    out.destination = { ...remote, ...withPorts };
  }
  return out;
}

/** The NetworkPolicy `ossg.default.<sg-id>` for a security group and its rules (§1.7), in the order given. */
export function securityGroupToPolicy(sg: SecurityGroupRecord, rules: readonly SecurityGroupRuleRecord[], namespace: string): NetworkPolicy {
  const sorted = rules;
  return {
    apiVersion: API_VERSION,
    kind: 'NetworkPolicy',
    metadata: { name: policyName(sg.id), namespace },
    spec: {
      selector: sgSelector(sg.id),
      ingress: sorted.filter((r) => r.direction === 'ingress').map(ruleToCalico),
      egress: sorted.filter((r) => r.direction !== 'ingress').map(ruleToCalico),
    },
  };
}
