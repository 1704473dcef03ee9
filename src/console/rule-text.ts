import { protocolKey, type EntityRule, type Rule } from '../model/index.js';
import type { RuleText } from './api-types.js';

/** networking-calico's policy name for a security group. */
const SG_POLICY = /^ossg\.default\.(.+)$/;

/** The security group id a policy enforces, if it is networking-calico's policy for one. */
export function securityGroupOfPolicy(name: string): string | undefined {
  return SG_POLICY.exec(name)?.[1];
}

/** A selector in words: `has(sg…openstack-<id>)` becomes "members of group <name>". */
function selectorText(sel: string, groupName: (id: string) => string | undefined): string {
  return sel.replace(/has\(sg\.projectcalico\.org\/openstack-([0-9a-f-]+)\)/g, (_m, id: string) => `members of group ${groupName(id) ?? id}`);
}

function entityText(e: EntityRule | undefined, side: 'from' | 'to', groupName: (id: string) => string | undefined): string[] {
  if (e === undefined) return [];
  const out: string[] = [];
  const ports = (e.ports ?? []).map(String).join(', ');
  if (e.nets !== undefined) out.push(`${side} ${e.nets.join(', ')}`);
  if (e.notNets !== undefined) out.push(`${side} anywhere but ${e.notNets.join(', ')}`);
  if (e.selector !== undefined) out.push(`${side} ${selectorText(e.selector, groupName)}`);
  if (e.notSelector !== undefined) out.push(`${side} all but ${selectorText(e.notSelector, groupName)}`);
  if (ports !== '') out.push(`${side === 'to' ? 'to port' : 'from port'}${e.ports?.length === 1 ? '' : 's'} ${ports}`);
  if (e.notPorts !== undefined) out.push(`${side === 'to' ? 'to' : 'from'} ports other than ${e.notPorts.map(String).join(', ')}`);
  return out;
}

/** One rule in words, as an operator reads a security group: "Allow IPv4 TCP to port 22 from 0.0.0.0/0". */
export function ruleText(rule: Rule, groupName: (id: string) => string | undefined): RuleText {
  const r = rule;
  const parts: string[] = [];
  if (r.ipVersion !== undefined) parts.push(`IPv${r.ipVersion}`);
  parts.push(r.protocol === undefined ? 'any protocol' : protocolKey(r.protocol));
  if (r.icmp?.type !== undefined) parts.push(`type ${r.icmp.type}${r.icmp.code === undefined ? '' : ` code ${r.icmp.code}`}`);
  parts.push(...entityText(r.source, 'from', groupName), ...entityText(r.destination, 'to', groupName));
  return { action: r.action, text: parts.join(' ') };
}
