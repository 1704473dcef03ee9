import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IpFamily, ParsedRule, PortRange } from '../calc/model.js';
import { DEFAULT_DATAPLANE_CONFIG } from '../config.js';
import { renderRule } from './render-rule.js';
import { ruleContext } from './rule-context.js';
import { parsedRule, ruleLines } from './testing/index.js';

const ACCEPT = '-j MARK --set-mark 0x10000/0x10000';
const RETURN_IF_ACCEPT = '-m mark --mark 0x10000/0x10000 -j RETURN';
const INIT = '-j MARK --set-mark 0/0x180000';
const INIT_NEGATED = '-j MARK --set-mark 0x80000/0x180000';
const SET_S0 = '-j MARK --set-mark 0x80000/0x80000';
const SET_S1 = '-j MARK --set-mark 0x100000/0x100000';
const CLEAR_S0 = '-j MARK --set-mark 0/0x80000';
const AND_S1 = '-m mark --mark 0/0x100000 -j MARK --set-mark 0/0x80000';
const IF_S0 = '-m mark --mark 0x80000/0x80000';

const ports = (...spec: (number | [number, number])[]): PortRange[] =>
  spec.map((p) => (typeof p === 'number' ? { first: p, last: p } : { first: p[0], last: p[1] }));
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

interface Case {
  readonly name: string;
  readonly rule: Partial<ParsedRule>;
  readonly family?: IpFamily;
  readonly want: readonly string[];
}

const cases: Case[] = [
  { name: 'allow everything', rule: {}, want: [ACCEPT, RETURN_IF_ACCEPT] },
  {
    name: 'tcp to a port and a range',
    rule: { protocol: 'TCP', dstPorts: ports(22, [1000, 2000]) },
    want: [`-p tcp -m multiport --destination-ports 22,1000:2000 ${ACCEPT}`, RETURN_IF_ACCEPT],
  },
  {
    name: 'remote group (selector IP set)',
    rule: { srcIpSetIds: ['s:abc'] },
    want: [`-m set --match-set cali40s:abc src ${ACCEPT}`, RETURN_IF_ACCEPT],
  },
  {
    name: 'several IP sets on a side are ANDed, one match each',
    rule: { srcIpSetIds: ['s:a', 's:b'], dstIpSetIds: ['s:c'] },
    want: [`-m set --match-set cali40s:a src -m set --match-set cali40s:b src -m set --match-set cali40s:c dst ${ACCEPT}`, RETURN_IF_ACCEPT],
  },
  {
    name: 'deny sets the drop mark, then drops',
    rule: { action: 'Deny', protocol: 'UDP' },
    want: ['-p udp -j MARK --set-mark 0x40000/0x40000', '-m mark --mark 0x40000/0x40000 -j DROP'],
  },
  {
    name: 'pass sets the pass mark, then returns',
    rule: { action: 'Pass', srcNets: ['10.0.0.0/8'] },
    want: ['--source 10.0.0.0/8 -j MARK --set-mark 0x20000/0x20000', '-m mark --mark 0x20000/0x20000 -j RETURN'],
  },
  {
    name: 'log is a single LOG rule',
    rule: { action: 'Log', protocol: 'TCP' },
    want: ['-p tcp -j LOG --log-prefix "calico-packet: " --log-level 5'],
  },
  { name: 'ICMP type and code', rule: { protocol: 'ICMP', icmpType: 8, icmpCode: 0 }, want: [`-p icmp -m icmp --icmp-type 8/0 ${ACCEPT}`, RETURN_IF_ACCEPT] },
  { name: 'ICMP type only', rule: { protocol: 'ICMP', icmpType: 3 }, want: [`-p icmp -m icmp --icmp-type 3 ${ACCEPT}`, RETURN_IF_ACCEPT] },
  {
    name: 'negated ICMP type/code',
    rule: { protocol: 'ICMP', notIcmpType: 3, notIcmpCode: 4 },
    want: [`-p icmp -m icmp ! --icmp-type 3/4 ${ACCEPT}`, RETURN_IF_ACCEPT],
  },
  {
    name: 'ICMPv6 in v6',
    family: 6,
    rule: { protocol: 'ICMPv6', icmpType: 128 },
    want: [`-p ipv6-icmp -m icmp6 --icmpv6-type 128 ${ACCEPT}`, RETURN_IF_ACCEPT],
  },
  {
    name: 'ICMPv6 type/code in v6',
    family: 6,
    rule: { protocol: 'ICMPv6', icmpType: 1, icmpCode: 3 },
    want: [`-p ipv6-icmp -m icmp6 --icmpv6-type 1/3 ${ACCEPT}`, RETURN_IF_ACCEPT],
  },
  { name: 'ICMPv6 skipped in v4', rule: { protocol: 'ICMPv6', icmpType: 128 }, want: [] },
  { name: 'ICMP skipped in v6', family: 6, rule: { protocol: 'ICMP' }, want: [] },
  { name: 'ICMP by number skipped in v6', family: 6, rule: { protocol: '1' }, want: [] },
  { name: 'ICMPv6 by number skipped in v4', rule: { protocol: '58' }, want: [] },
  { name: 'ipVersion 6 skipped in v4', rule: { ipVersion: 6 }, want: [] },
  { name: 'ipVersion 4 skipped in v6', family: 6, rule: { ipVersion: 4 }, want: [] },
  { name: 'ipVersion 4 kept in v4', rule: { ipVersion: 4, protocol: 'TCP' }, want: [`-p tcp ${ACCEPT}`, RETURN_IF_ACCEPT] },
  { name: 'only v6 source nets: skipped in v4', rule: { srcNets: ['fd00::/64'] }, want: [] },
  { name: 'only v4 dest nets: skipped in v6', family: 6, rule: { dstNets: ['10.0.0.0/8'] }, want: [] },
  { name: 'only v6 negated nets: skipped in v4', rule: { notSrcNets: ['fd00::1/128'] }, want: [] },
  { name: 'mixed nets: this family kept', rule: { srcNets: ['10.0.0.0/8', 'fd00::/64'] }, want: [`--source 10.0.0.0/8 ${ACCEPT}`, RETURN_IF_ACCEPT] },
  {
    name: 'mixed nets in v6',
    family: 6,
    rule: { srcNets: ['10.0.0.0/8', 'fd00::/64'], srcIpSetIds: ['s:x'] },
    want: [`--source fd00::/64 -m set --match-set cali60s:x src ${ACCEPT}`, RETURN_IF_ACCEPT],
  },
  { name: 'negated 0.0.0.0/0 skips the rule', rule: { notDstNets: ['0.0.0.0/0'] }, want: [] },
  { name: 'negated ::/0 skips the rule in v6', family: 6, rule: { notSrcNets: ['::/0', 'fd00::/8'] }, want: [] },
  { name: 'one negated net goes in the main rule', rule: { notSrcNets: ['10.1.0.0/16'] }, want: [`! --source 10.1.0.0/16 ${ACCEPT}`, RETURN_IF_ACCEPT] },
  {
    name: 'several source nets are ORed in a block',
    rule: { protocol: 'TCP', srcNets: ['10.0.0.0/8', '192.168.0.0/16'] },
    want: [INIT, `--source 10.0.0.0/8 ${SET_S0}`, `--source 192.168.0.0/16 ${SET_S0}`, `-p tcp ${IF_S0} ${ACCEPT}`, RETURN_IF_ACCEPT],
  },
  {
    name: 'positive plus negated source: the positive stays in the main rule, the negation is a block',
    rule: { srcNets: ['10.0.0.0/8'], notSrcNets: ['10.1.0.0/16'] },
    want: [INIT_NEGATED, `--source 10.1.0.0/16 ${CLEAR_S0}`, `--source 10.0.0.0/8 ${IF_S0} ${ACCEPT}`, RETURN_IF_ACCEPT],
  },
  {
    name: 'several negated dest nets: none may match',
    rule: { notDstNets: ['10.1.0.0/16', '10.2.0.0/16'] },
    want: [INIT_NEGATED, `--destination 10.1.0.0/16 ${CLEAR_S0}`, `--destination 10.2.0.0/16 ${CLEAR_S0}`, `${IF_S0} ${ACCEPT}`, RETURN_IF_ACCEPT],
  },
  {
    name: 'several positive and several negated nets: OR block then NOT block',
    rule: { dstNets: ['10.0.0.0/8', '172.16.0.0/12'], notDstNets: ['10.1.0.0/16'] },
    want: [
      INIT,
      `--destination 10.0.0.0/8 ${SET_S0}`,
      `--destination 172.16.0.0/12 ${SET_S0}`,
      `! --destination 10.1.0.0/16 ${IF_S0} ${ACCEPT}`,
      RETURN_IF_ACCEPT,
    ],
  },
  {
    name: '16 ports: two multiport groups ORed',
    rule: { protocol: 'TCP', dstPorts: ports(...range(1, 16)) },
    want: [
      INIT,
      `-p tcp -m multiport --destination-ports ${range(1, 15).join(',')} ${SET_S0}`,
      `-p tcp -m multiport --destination-ports 16 ${SET_S0}`,
      `-p tcp ${IF_S0} ${ACCEPT}`,
      RETURN_IF_ACCEPT,
    ],
  },
  {
    name: 'a range takes two slots: 14 ports + a range do not fit one group',
    rule: { protocol: 'UDP', srcPorts: ports(...range(1, 14), [100, 200]) },
    want: [
      INIT,
      `-p udp -m multiport --source-ports ${range(1, 14).join(',')} ${SET_S0}`,
      `-p udp -m multiport --source-ports 100:200 ${SET_S0}`,
      `-p udp ${IF_S0} ${ACCEPT}`,
      RETURN_IF_ACCEPT,
    ],
  },
  {
    name: '15 slots exactly fit one multiport',
    rule: { protocol: 'TCP', dstPorts: ports(...range(1, 13), [20, 30]) },
    want: [`-p tcp -m multiport --destination-ports ${range(1, 13).join(',')},20:30 ${ACCEPT}`, RETURN_IF_ACCEPT],
  },
  {
    name: 'three positive blocks: scratch1 is reset before reuse and ANDed into scratch0',
    rule: { protocol: 'TCP', srcPorts: ports(...range(1, 16)), dstPorts: ports(...range(21, 36)), srcNets: ['10.0.0.0/8', '10.9.0.0/16'] },
    want: [
      INIT,
      `-p tcp -m multiport --source-ports ${range(1, 15).join(',')} ${SET_S0}`,
      `-p tcp -m multiport --source-ports 16 ${SET_S0}`,
      `-p tcp -m multiport --destination-ports ${range(21, 35).join(',')} ${SET_S1}`,
      `-p tcp -m multiport --destination-ports 36 ${SET_S1}`,
      AND_S1,
      '-j MARK --set-mark 0/0x100000',
      `--source 10.0.0.0/8 ${SET_S1}`,
      `--source 10.9.0.0/16 ${SET_S1}`,
      AND_S1,
      `-p tcp ${IF_S0} ${ACCEPT}`,
      RETURN_IF_ACCEPT,
    ],
  },
  {
    name: 'negated ports over 15 slots: several ANDed negated multiports in the main rule',
    rule: { protocol: 'TCP', notDstPorts: ports(...range(1, 16)) },
    want: [`-p tcp -m multiport ! --destination-ports ${range(1, 15).join(',')} -m multiport ! --destination-ports 16 ${ACCEPT}`, RETURN_IF_ACCEPT],
  },
  {
    name: 'every fragment in Felix order (one net per side so no block is needed)',
    rule: {
      protocol: 'TCP',
      srcNets: ['10.0.0.0/8'],
      srcIpSetIds: ['s:src'],
      srcPorts: ports(1),
      dstIpSetIds: ['s:dst'],
      dstPorts: ports(2),
      notSrcIpSetIds: ['s:nsrc'],
      notSrcPorts: ports(3),
      notDstNets: ['10.2.3.0/24'],
      notDstIpSetIds: ['s:ndst'],
      notDstPorts: ports(4),
    },
    want: [
      [
        '-p tcp --source 10.0.0.0/8 -m set --match-set cali40s:src src -m multiport --source-ports 1',
        '-m set --match-set cali40s:dst dst -m multiport --destination-ports 2',
        '-m set ! --match-set cali40s:nsrc src -m multiport ! --source-ports 3',
        '! --destination 10.2.3.0/24 -m set ! --match-set cali40s:ndst dst -m multiport ! --destination-ports 4',
        ACCEPT,
      ].join(' '),
      RETURN_IF_ACCEPT,
    ],
  },
  {
    name: 'negated protocol comes first among the negations',
    rule: { notProtocol: 'UDP', srcNets: ['10.0.0.0/8'], notDstIpSetIds: ['s:x'] },
    want: [`--source 10.0.0.0/8 ! -p udp -m set ! --match-set cali40s:x dst ${ACCEPT}`, RETURN_IF_ACCEPT],
  },
  { name: 'numeric protocol', rule: { protocol: '47' }, want: [`-p 47 ${ACCEPT}`, RETURN_IF_ACCEPT] },
  { name: 'SCTP by name', rule: { protocol: 'SCTP' }, want: [`-p sctp ${ACCEPT}`, RETURN_IF_ACCEPT] },
  { name: 'negated UDPLite by name', rule: { notProtocol: 'UDPLite' }, want: [`! -p udplite ${ACCEPT}`, RETURN_IF_ACCEPT] },
  {
    name: 'negated protocol implied by a different positive one: one -p only',
    rule: { protocol: 'TCP', notProtocol: '17' },
    want: [`-p tcp ${ACCEPT}`, RETURN_IF_ACCEPT],
  },
  { name: 'negated protocol equal to the positive one: never matches', rule: { protocol: 'udp', notProtocol: 'UDP' }, want: [] },
  { name: 'equal by number and name', rule: { protocol: '6', notProtocol: 'TCP' }, want: [] },
];

describe('renderRule', () => {
  for (const c of cases) {
    it(c.name, () => {
      const family = c.family ?? 4;
      assert.deepEqual(ruleLines(renderRule(parsedRule(c.rule), family, ruleContext(DEFAULT_DATAPLANE_CONFIG, family))), c.want);
    });
  }

  it('sanitises and shortens the LOG prefix (29 characters with ": ")', () => {
    const ctx = { ...ruleContext(DEFAULT_DATAPLANE_CONFIG, 4), logPrefix: 'a"b\\c' };
    assert.deepEqual(ruleLines(renderRule(parsedRule({ action: 'Log' }), 4, ctx)), ['-j LOG --log-prefix "a_b_c: " --log-level 5']);
    const long = { ...ctx, logPrefix: 'x'.repeat(40) };
    const [log] = renderRule(parsedRule({ action: 'Log' }), 4, long);
    assert.equal(log?.action, `-j LOG --log-prefix "${'x'.repeat(27)}: " --log-level 5`);
  });

  it('uses the deny action and marks of the context', () => {
    const ctx = {
      ...ruleContext(DEFAULT_DATAPLANE_CONFIG, 4),
      denyAction: 'REJECT' as const,
      marks: { accept: 0x1, pass: 0x2, drop: 0x4, scratch0: 0x8, scratch1: 0x10 },
    };
    assert.deepEqual(ruleLines(renderRule(parsedRule({ action: 'Deny', srcNets: ['10.0.0.1/32', '10.0.0.2/32'] }), 4, ctx)), [
      '-j MARK --set-mark 0/0x18',
      '--source 10.0.0.1/32 -j MARK --set-mark 0x8/0x8',
      '--source 10.0.0.2/32 -j MARK --set-mark 0x8/0x8',
      '-m mark --mark 0x8/0x8 -j MARK --set-mark 0x4/0x4',
      '-m mark --mark 0x4/0x4 -j REJECT',
    ]);
  });

  it('is deterministic: same rule, same text', () => {
    const rule = parsedRule({ protocol: 'TCP', srcNets: ['10.0.0.0/8', '10.1.0.0/16'], dstPorts: ports(...range(1, 40)) });
    const ctx = ruleContext(DEFAULT_DATAPLANE_CONFIG, 4);
    assert.deepEqual(renderRule(rule, 4, ctx), renderRule(structuredClone(rule), 4, ctx));
  });
});
