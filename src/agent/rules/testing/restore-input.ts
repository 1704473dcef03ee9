/**
 * Test helper: one table's chains and kernel-chain rules as iptables-restore input, shaped the
 * way the table driver writes it (`:chain - [0:0]` declarations, each rule with a `cali:` hash
 * comment first, extra comments sanitised, then match and action), so tests can load rendered
 * rules into a real kernel.
 */
import { createHash } from 'node:crypto';
import type { Chain, IptRule, KernelChainRules, TableName } from '../../dataplane/iptables/chain.js';

function sanitise(comment: string): string {
  return comment.replace(/[^\w @%+=:,./-]/g, '_').slice(0, 256);
}

function line(chain: string, rule: IptRule, index: number): string {
  const hash = createHash('sha224').update(`${chain}/${index}/${rule.match}/${rule.action}`).digest('base64url').slice(0, 16);
  const comments = [`cali:${hash}`, ...(rule.comment ?? []).map(sanitise)].map((c) => `-m comment --comment "${c}"`);
  return [`-A ${chain}`, ...comments, rule.match, rule.action].filter((s) => s !== '').join(' ');
}

export function restoreInput(table: TableName, chains: readonly Chain[], kernel: Readonly<Record<string, KernelChainRules>>): string {
  const out = [`*${table}`];
  for (const name of Object.keys(kernel)) out.push(`:${name} ACCEPT [0:0]`);
  for (const chain of chains) out.push(`:${chain.name} - [0:0]`);
  for (const chain of chains) chain.rules.forEach((r, i) => out.push(line(chain.name, r, i)));
  for (const [name, rules] of Object.entries(kernel)) {
    [...rules.insert, ...rules.append].forEach((r, i) => out.push(line(name, r, i)));
  }
  out.push('COMMIT', '');
  return out.join('\n');
}
