/**
 * Test helper: a chain's rules as one readable line each, `<match> <action>`, followed by
 * ` # <comment>; <comment>` when the rule has comments. Golden tests compare these lines.
 */
import type { IptRule } from '../../dataplane/iptables/chain.js';

export function ruleLines(rules: readonly IptRule[]): string[] {
  return rules.map((r) => {
    const text = [r.match, r.action].filter((s) => s !== '').join(' ');
    return r.comment === undefined || r.comment.length === 0 ? text : `${text} # ${r.comment.join('; ')}`;
  });
}
