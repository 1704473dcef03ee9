import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NftTranslateError } from '../../errors.js';
import { fullFixture } from '../../rules/testing/index.js';
import type { TableName } from '../iptables/chain.js';
import { translateRule } from './translate-rule.js';

const cases: { name: string; match: string; action: string; family?: 4 | 6; table?: TableName; want: string }[] = [
  { name: 'unconditional accept', match: '', action: '-j ACCEPT', want: 'counter accept' },
  { name: 'interface wildcard, goto in filter', match: '-i tap+', action: '-g cali-wl-to-host', want: 'iifname "tap*" counter goto cali-wl-to-host' },
  {
    name: 'jump in raw is table-prefixed',
    match: '-m mark --mark 0x80000/0x80000',
    action: '-j cali-rpf-skip',
    table: 'raw',
    want: 'meta mark & 0x00080000 == 0x00080000 counter jump raw.cali-rpf-skip',
  },
  { name: 'mark clear test', match: '-m mark --mark 0/0x20000', action: '-j DROP', want: 'meta mark & 0x00020000 == 0x00000000 counter drop' },
  { name: 'set mark', match: '', action: '-j MARK --set-mark 0x10000/0x10000', want: 'counter meta mark set meta mark & 0xfffeffff | 0x00010000' },
  { name: 'clear mark', match: '', action: '-j MARK --set-mark 0/0x1b0000', want: 'counter meta mark set meta mark & 0xffe4ffff' },
  { name: 'masked mark', match: '', action: '-j MARK --set-mark 0x80000/0x180000', want: 'counter meta mark set meta mark & 0xffe7ffff | 0x00080000' },
  {
    name: 'ports and address',
    match: '-p tcp --destination 127.0.0.1/32 -m multiport --destination-ports 8775',
    action: '-j ACCEPT',
    want: 'meta l4proto tcp ip daddr 127.0.0.1/32 th dport 8775 counter accept',
  },
  {
    name: 'port list with ranges',
    match: '-p udp -m multiport --destination-ports 2000,2010:2015',
    action: '-j ACCEPT',
    want: 'meta l4proto udp th dport { 2000, 2010-2015 } counter accept',
  },
  {
    name: 'one port range: a range match, no anonymous set',
    match: '-p tcp -m multiport --destination-ports 1000:2000',
    action: '-j ACCEPT',
    want: 'meta l4proto tcp th dport 1000-2000 counter accept',
  },
  { name: 'negated ports', match: '-p sctp -m multiport ! --source-ports 9', action: '-j DROP', want: 'meta l4proto sctp th sport != 9 counter drop' },
  {
    name: 'sets, both directions, negated',
    match: '-m set --match-set cali40s:abc src -m set ! --match-set cali40all-ipam-pools dst',
    action: '-j MASQUERADE --random-fully',
    table: 'nat',
    want: 'ip saddr @cali40s.abc ip daddr != @cali40all-ipam-pools counter masquerade fully-random',
  },
  { name: 'IPv6 addresses', match: '! --source fd00::/8', action: '-j RETURN', family: 6, want: 'ip6 saddr != fd00::/8 counter return' },
  { name: 'conntrack states', match: '-m conntrack --ctstate RELATED,ESTABLISHED', action: '-j ACCEPT', want: 'ct state related,established counter accept' },
  {
    name: 'not DNATed',
    match: '-m conntrack ! --ctstate DNAT',
    action: '-j cali-to-host-endpoint',
    want: 'ct status & dnat == 0 counter jump cali-to-host-endpoint',
  },
  {
    name: 'icmp type and code',
    match: '-p icmp -m icmp --icmp-type 8/0',
    action: '-j ACCEPT',
    want: 'meta l4proto icmp icmp type 8 icmp code 0 counter accept',
  },
  {
    name: 'negated icmp type and code',
    match: '-p ipv6-icmp -m icmp6 ! --icmpv6-type 1/3',
    action: '-j ACCEPT',
    family: 6,
    want: 'meta l4proto ipv6-icmp icmpv6 type . icmpv6 code != { 1 . 3 } counter accept',
  },
  {
    name: 'reverse path',
    match: '-m mark --mark 0x80000/0x80000 -m rpfilter --validmark --invert',
    action: '-j DROP',
    table: 'raw',
    want: 'meta mark & 0x00080000 == 0x00080000 fib saddr . mark . iif oif 0 counter drop',
  },
  { name: 'log', match: '', action: '-j LOG --log-prefix "calico-packet: " --log-level 5', want: 'counter log prefix "calico-packet: " level notice' },
  { name: 'DNAT with port', match: '', action: '-j DNAT --to-destination 127.0.0.1:8775', table: 'nat', want: 'counter dnat to 127.0.0.1:8775' },
  {
    name: 'SNAT',
    match: '--source 10.65.0.2/32',
    action: '-j SNAT --to-source 172.24.4.10',
    table: 'nat',
    want: 'ip saddr 10.65.0.2/32 counter snat to 172.24.4.10',
  },
  { name: 'negated protocol', match: '! -p udplite', action: '-j ACCEPT', want: 'meta l4proto != udplite counter accept' },
  {
    name: 'not ICMP in IPv6 is not protocol 1, as in ip6tables (ICMPv6 is not exempt)',
    match: '! -p icmp',
    action: '-j DROP',
    family: 6,
    want: 'meta l4proto != icmp counter drop',
  },
];

describe('translateRule: the renderer’s iptables fragments as nft', () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(translateRule({ match: c.match, action: c.action }, { family: c.family ?? 4, table: c.table ?? 'filter' }), c.want);
    });
  }

  it('refuses what it was not taught, naming the fragment', () => {
    assert.throws(
      () => translateRule({ match: '-m addrtype --dst-type LOCAL', action: '-j ACCEPT' }, { family: 4, table: 'filter' }),
      (e: unknown) => e instanceof NftTranslateError && /addrtype/.test(e.message),
    );
    assert.throws(() => translateRule({ match: '', action: '-j TPROXY' }, { family: 4, table: 'filter' }), NftTranslateError);
    assert.throws(() => translateRule({ match: '', action: '-g ACCEPT' }, { family: 4, table: 'filter' }), NftTranslateError);
    assert.throws(
      () => translateRule({ match: '-m conntrack ! --ctstate NEW,INVALID', action: '-j ACCEPT' }, { family: 4, table: 'filter' }),
      NftTranslateError,
    );
  });

  it('translates every rule of the full rendered ruleset, both families', () => {
    let n = 0;
    for (const family of [4, 6] as const) {
      for (const [table, t] of Object.entries(fullFixture(family)) as [TableName, ReturnType<typeof fullFixture>[TableName]][]) {
        for (const rule of [...t.chains.flatMap((c) => c.rules), ...Object.values(t.kernel).flatMap((k) => [...k.insert, ...k.append])]) {
          assert.doesNotThrow(() => translateRule(rule, { family, table }));
          n++;
        }
      }
    }
    assert.ok(n > 150, `${n} rules`);
  });
});
