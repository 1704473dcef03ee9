/**
 * Renders a policy's or profile's rules into its two chains (`cali-pi-`/`cali-po-` for
 * policies, `cali-pri-`/`cali-pro-` for profiles), reference §1.10. No implicit final rule:
 * falling off the end means "no verdict" to the endpoint chain, so trailing RETURN rules are
 * dropped as no-ops. The first rule carries a comment naming the policy and direction; a
 * direction without rules is an empty chain.
 */
import type { ActiveRules, IpFamily, ParsedRule } from '../calc/model.js';
import type { Chain, IptRule } from '../dataplane/iptables/chain.js';
import { policyChainName } from './chain-names.js';
import { renderRule } from './render-rule.js';
import type { RuleContext } from './rule-context.js';

/**
 * Expands Felix's LOG prefix specifiers for policy `id`: `%k` kind (np, gnp, pro), `%n` name,
 * `%p` namespace/name (name for global kinds), `%t` tier (unknown here: ActiveRules has no tier,
 * so it expands to nothing, as Felix does for profiles).
 */
function expandLogPrefix(prefix: string, id: string): string {
  if (!prefix.includes('%')) return prefix;
  const slash = id.indexOf('/');
  const kind = id.slice(0, slash);
  const path = id.slice(slash + 1);
  const name = path.slice(path.lastIndexOf('/') + 1);
  const values: Record<string, string> = { '%k': kind, '%n': name, '%p': path, '%t': '' };
  return prefix.replace(/%[tknp]/g, (s) => values[s] ?? s);
}

function chainRules(rules: readonly ParsedRule[], family: IpFamily, ctx: RuleContext, comment: string): IptRule[] {
  const out = rules.flatMap((rule) => renderRule(rule, family, ctx));
  while (out.length > 0 && out[out.length - 1]?.action === '-j RETURN') out.pop();
  const first = out[0];
  if (first !== undefined) out[0] = { ...first, comment: [comment, ...(first.comment ?? [])] };
  return out;
}

/** [ingress chain, egress chain] of policy or profile `rules` for the `family` table. */
export function renderRulesChains(rules: ActiveRules, family: IpFamily, ctx: RuleContext): Chain[] {
  const what = rules.id.startsWith('pro/') ? 'Profile' : 'Policy';
  const c: RuleContext = { ...ctx, logPrefix: expandLogPrefix(ctx.logPrefix, rules.id) };
  return [
    { name: policyChainName(rules.id, 'ingress'), rules: chainRules(rules.ingress, family, c, `${what} ${rules.id} ingress`) },
    { name: policyChainName(rules.id, 'egress'), rules: chainRules(rules.egress, family, c, `${what} ${rules.id} egress`) },
  ];
}
