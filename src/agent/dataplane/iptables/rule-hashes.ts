import { createHash } from 'node:crypto';
import type { IptRule } from './chain.js';

/** Comments may only carry these characters; others become `_` (as Felix sanitises them). */
function sanitiseComment(text: string): string {
  return text.replace(/[^\w @%+=:,./-]/g, '_').slice(0, 256);
}

/** The rule's text after the hash comment: extra comments, match, action. */
export function ruleBody(rule: IptRule): string {
  const parts: string[] = [];
  for (const c of rule.comment ?? []) parts.push(`-m comment --comment "${sanitiseComment(c)}"`);
  if (rule.match !== '') parts.push(rule.match);
  parts.push(rule.action);
  return parts.join(' ');
}

/**
 * Felix's rule ids: start from SHA-224 of the chain name; each rule's hash is SHA-224 of the
 * previous hash and the rule's text; the id is the first 16 characters of its base64url form.
 * A rule's id thus depends on its position and everything before it in the chain.
 */
export function ruleHashes(chainName: string, rules: readonly IptRule[]): string[] {
  let prev = createHash('sha224').update(chainName).digest();
  // 12 bytes are exactly 16 base64url characters: a string of its own, not a slice of a longer
  // one (105,000 of them are kept); `map` makes the array its exact length.
  return rules.map((r) => {
    prev = createHash('sha224').update(prev).update(ruleBody(r)).digest();
    return prev.subarray(0, 12).toString('base64url');
  });
}

/** `-m comment --comment "cali:<id>" <body>`: the rule as iptables-restore takes it after `-A <chain>`. */
export function ruleSpec(rule: IptRule, hash: string): string {
  return `-m comment --comment "cali:${hash}" ${ruleBody(rule)}`;
}
