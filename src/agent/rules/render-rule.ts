/**
 * Renders one policy rule (`ParsedRule`) into iptables rules for one IP family, the way Felix's
 * policy renderer does (reference §1.11):
 *
 * 1. Family filter: a rule for the other family, ICMP in v6 / ICMPv6 in v4, a net field whose
 *    CIDRs are all of the other family, or a negated catch-all CIDR ⇒ no rules at all. A
 *    negated protocol next to a positive one is implied (dropped) or contradictory (no rules).
 * 2. Match blocks: iptables ANDs everything in one rule, so ORs that do not fit (several
 *    positive CIDRs on a side, more than 15 port slots, a positive CIDR next to negated ones,
 *    several negated CIDRs) are computed first into the scratch mark bits, and the main rule
 *    then also requires scratch0.
 * 3. The main match, fragments in Felix's order, then the action rules.
 *
 * IP sets on one side are ANDed (each is its own `-m set` match); positive nets are ORed;
 * negated nets and negated ports must all miss.
 */
import type { IpFamily, ParsedRule, PortRange } from '../calc/model.js';
import type { IptRule } from '../dataplane/iptables/chain.js';
import { ipt } from './ipt.js';
import type { RuleContext } from './rule-context.js';

/** LOG's `--log-prefix` takes at most 29 characters; we add `: `. */
const MAX_LOG_PREFIX = 27;

const PROTOCOL_NUMBERS: Readonly<Record<string, number>> = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132, udplite: 136 };

/** A protocol as a number when we know it, else its lower-case name (for comparisons). */
function protocolKey(protocol: string): number | string {
  if (/^\d+$/.test(protocol)) return Number(protocol);
  const lower = protocol.toLowerCase();
  return PROTOCOL_NUMBERS[lower] ?? lower;
}

/** The rule with nets reduced to this family's; undefined when it does not apply to the family. */
function filterToFamily(rule: ParsedRule, family: IpFamily): ParsedRule | undefined {
  if (rule.ipVersion !== undefined && rule.ipVersion !== family) return undefined;
  const proto = rule.protocol === undefined ? undefined : protocolKey(rule.protocol);
  if (proto === (family === 4 ? 58 : 1)) return undefined; // ICMPv6 in v4, ICMP in v6
  const catchAll = family === 4 ? '0.0.0.0/0' : '::/0';
  const keep = (nets: readonly string[], negated: boolean): string[] | undefined => {
    if (nets.length === 0) return [];
    const mine = nets.filter((n) => ipt.isV6(n) === (family === 6));
    if (mine.length === 0) return undefined;
    if (negated && mine.includes(catchAll)) return undefined;
    return mine;
  };
  const srcNets = keep(rule.srcNets, false);
  const notSrcNets = keep(rule.notSrcNets, true);
  const dstNets = keep(rule.dstNets, false);
  const notDstNets = keep(rule.notDstNets, true);
  if (srcNets === undefined || notSrcNets === undefined || dstNets === undefined || notDstNets === undefined) return undefined;
  return { ...rule, srcNets, notSrcNets, dstNets, notDstNets };
}

/**
 * iptables allows one `-p` per rule. With a protocol given, a different negated protocol is
 * implied (drop it) and the same one can never match (skip the rule).
 */
function withoutRedundantNotProtocol(rule: ParsedRule): ParsedRule | undefined {
  if (rule.protocol === undefined || rule.notProtocol === undefined) return rule;
  if (protocolKey(rule.protocol) === protocolKey(rule.notProtocol)) return undefined;
  const { notProtocol: _redundant, ...rest } = rule;
  return rest;
}

/** iptables' name for a Calico protocol: lower case, ICMPv6 → ipv6-icmp, numbers as numbers. */
function protocolName(protocol: string): string {
  if (/^\d+$/.test(protocol)) return String(Number(protocol));
  const lower = protocol.toLowerCase();
  return lower === 'icmpv6' ? 'ipv6-icmp' : lower;
}

function icmpMatch(family: IpFamily, type: number | undefined, code: number | undefined, negated: boolean): string | undefined {
  if (type === undefined) return undefined;
  const value = code === undefined ? `${type}` : `${type}/${code}`;
  const not = negated ? '! ' : '';
  return family === 4 ? `-m icmp ${not}--icmp-type ${value}` : `-m icmp6 ${not}--icmpv6-type ${value}`;
}

/**
 * Builds the rules that evaluate ORs into scratch0 ("all blocks pass") using scratch1 ("this
 * block passes") for every positive block after the first. Positive blocks must all be added
 * before negated ones.
 */
class MatchBlocks {
  readonly rules: IptRule[] = [];
  private started = false;
  private firstPositiveDone = false;
  private scratch1Dirty = false;

  constructor(
    private readonly s0: number,
    private readonly s1: number,
  ) {}

  get used(): boolean {
    return this.started;
  }

  /** Some alternative must match (OR), ANDed with the blocks before. */
  positive(alternatives: readonly string[]): void {
    this.start(0);
    if (!this.firstPositiveDone) {
      for (const match of alternatives) this.rules.push({ match, action: ipt.setMark(this.s0) });
      this.firstPositiveDone = true;
      return;
    }
    // Felix reuses scratch1 without resetting it; with three or more positive blocks a match
    // in one block would leak into the next, so clear it whenever it may hold a result.
    if (this.scratch1Dirty) this.rules.push({ match: '', action: ipt.clearMark(this.s1) });
    for (const match of alternatives) this.rules.push({ match, action: ipt.setMark(this.s1) });
    this.rules.push({ match: ipt.markClear(this.s1), action: ipt.clearMark(this.s0) });
    this.scratch1Dirty = true;
  }

  /** No alternative may match. */
  negated(alternatives: readonly string[]): void {
    this.start(this.s0);
    for (const match of alternatives) this.rules.push({ match, action: ipt.clearMark(this.s0) });
  }

  private start(initial: number): void {
    if (this.started) return;
    this.rules.push({ match: '', action: ipt.setMaskedMark(initial, this.s0 | this.s1) });
    this.started = true;
  }
}

function logAction(prefix: string): string {
  // Quotes, backslashes and control characters would break iptables-restore's tokenizer.
  // eslint-disable-next-line no-control-regex
  const clean = prefix.replace(/["\\\u0000-\u001f\u007f-\uffff]/g, '_').slice(0, MAX_LOG_PREFIX);
  return `-j LOG --log-prefix "${clean}: " --log-level 5`;
}

function actionRules(action: ParsedRule['action'], match: string, ctx: RuleContext): IptRule[] {
  const { marks } = ctx;
  switch (action) {
    case 'Allow':
      return [
        { match, action: ipt.setMark(marks.accept) },
        { match: ipt.markSet(marks.accept), action: '-j RETURN' },
      ];
    case 'Pass':
      return [
        { match, action: ipt.setMark(marks.pass) },
        { match: ipt.markSet(marks.pass), action: '-j RETURN' },
      ];
    case 'Deny':
      return [
        { match, action: ipt.setMark(marks.drop) },
        { match: ipt.markSet(marks.drop), action: `-j ${ctx.denyAction}` },
      ];
    case 'Log':
      return [{ match, action: logAction(ctx.logPrefix) }];
  }
}

/** The iptables rules for `rule` in the `family` table; [] when the rule does not apply to it. */
export function renderRule(rule: ParsedRule, family: IpFamily, ctx: RuleContext): IptRule[] {
  const filtered = filterToFamily(rule, family);
  const r = filtered === undefined ? undefined : withoutRedundantNotProtocol(filtered);
  if (r === undefined) return [];
  const proto = r.protocol === undefined ? '' : `-p ${protocolName(r.protocol)}`;
  const blocks = new MatchBlocks(ctx.marks.scratch0, ctx.marks.scratch1);

  let srcPorts: readonly PortRange[] = r.srcPorts;
  let dstPorts: readonly PortRange[] = r.dstPorts;
  const srcSplits = ipt.splitPorts(srcPorts);
  if (srcSplits.length > 1) {
    blocks.positive(srcSplits.map((group) => ipt.join(proto, ipt.multiport('source', group))));
    srcPorts = [];
  }
  const dstSplits = ipt.splitPorts(dstPorts);
  if (dstSplits.length > 1) {
    blocks.positive(dstSplits.map((group) => ipt.join(proto, ipt.multiport('destination', group))));
    dstPorts = [];
  }

  let { srcNets, dstNets, notSrcNets, notDstNets } = r;
  if (srcNets.length > 1) {
    blocks.positive(srcNets.map((net) => `--source ${net}`));
    srcNets = [];
  }
  if (dstNets.length > 1) {
    blocks.positive(dstNets.map((net) => `--destination ${net}`));
    dstNets = [];
  }
  if (srcNets.length + notSrcNets.length > 1) {
    blocks.negated(notSrcNets.map((net) => `--source ${net}`));
    notSrcNets = [];
  }
  if (dstNets.length + notDstNets.length > 1) {
    blocks.negated(notDstNets.map((net) => `--destination ${net}`));
    notDstNets = [];
  }

  const set = (id: string, dir: 'src' | 'dst', negated: boolean): string => `-m set ${negated ? '! ' : ''}--match-set ${ctx.ipSetName(id)} ${dir}`;
  const main = ipt.join(
    proto,
    srcNets[0] !== undefined && `--source ${srcNets[0]}`,
    ...r.srcIpSetIds.map((id) => set(id, 'src', false)),
    srcPorts.length > 0 && ipt.multiport('source', srcPorts),
    dstNets[0] !== undefined && `--destination ${dstNets[0]}`,
    ...r.dstIpSetIds.map((id) => set(id, 'dst', false)),
    dstPorts.length > 0 && ipt.multiport('destination', dstPorts),
    icmpMatch(family, r.icmpType, r.icmpCode, false),
    r.notProtocol !== undefined && `! -p ${protocolName(r.notProtocol)}`,
    notSrcNets[0] !== undefined && `! --source ${notSrcNets[0]}`,
    ...r.notSrcIpSetIds.map((id) => set(id, 'src', true)),
    ...ipt.splitPorts(r.notSrcPorts).map((group) => ipt.multiport('source', group, true)),
    notDstNets[0] !== undefined && `! --destination ${notDstNets[0]}`,
    ...r.notDstIpSetIds.map((id) => set(id, 'dst', true)),
    ...ipt.splitPorts(r.notDstPorts).map((group) => ipt.multiport('destination', group, true)),
    icmpMatch(family, r.notIcmpType, r.notIcmpCode, true),
    blocks.used && ipt.markSet(ctx.marks.scratch0),
  );
  return [...blocks.rules, ...actionRules(r.action, main, ctx)];
}
