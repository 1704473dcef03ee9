// Loads everything the renderer produces into a real kernel (in a throwaway network namespace)
// with iptables-restore / ip6tables-restore, for both iptables backends: first `--test`, then
// a real load, then reads it back with iptables-save. Proves the text is valid iptables, not
// just what we expect it to be.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { makeTestNetns, type TestNetns } from '../../lib/testing.js';
import type { ActiveRules, IpFamily } from '../calc/model.js';
import { DEFAULT_DATAPLANE_CONFIG, type DataplaneConfig } from '../config.js';
import type { Chain, KernelChainRules, TableName } from '../dataplane/iptables/chain.js';
import {
  renderDispatchChains,
  renderEndpointChains,
  renderFloatingIpChains,
  renderRpfSkip,
  renderRulesChains,
  renderStaticTables,
  ruleContext,
} from './index.js';
import { localEndpoint, parsedRule, restoreInput } from './testing/index.js';

const config: DataplaneConfig = {
  ...DEFAULT_DATAPLANE_CONFIG,
  interfacePrefixes: ['tap', 'vnet'],
  failsafeInbound: [...DEFAULT_DATAPLANE_CONFIG.failsafeInbound, { protocol: 'tcp', port: 2222, net: '10.0.0.0/8' }, { protocol: 'tcp', port: 2222, net: 'fd00::/8' }],
  failsafeOutbound: [...DEFAULT_DATAPLANE_CONFIG.failsafeOutbound, { protocol: 'udp', port: 123, net: '192.0.2.0/24' }],
};

const ports = (...p: number[]): { first: number; last: number }[] => p.map((n) => ({ first: n, last: n }));
const many = Array.from({ length: 20 }, (_, i) => ({ first: 2000 + i * 10, last: 2000 + i * 10 + (i % 2) * 5 }));

const policy: ActiveRules = {
  id: 'np/openstack/ossg.default.5f2b7c1e-6a3d-4e0b-9c41-2f7e8d9a0b1c',
  ingress: [
    parsedRule({ srcIpSetIds: ['s:remote-group-a', 's:remote-group-b'] }),
    parsedRule({ protocol: 'TCP', srcNets: ['0.0.0.0/0', '::/0'], dstPorts: [{ first: 1000, last: 2000 }] }),
    parsedRule({ protocol: 'UDP', srcNets: ['10.0.0.0/8', '192.168.0.0/16', 'fd00::/8', 'fe80::/10'], notSrcNets: ['10.1.0.0/16', 'fd00:1::/32'], dstPorts: many }),
    parsedRule({ protocol: 'TCP', srcPorts: many, dstPorts: many, dstNets: ['10.65.0.0/16', '10.66.0.0/16', 'fd00:65::/64', 'fd00:66::/64'] }),
    parsedRule({ ipVersion: 4, protocol: 'ICMP', icmpType: 8, icmpCode: 0 }),
    parsedRule({ ipVersion: 4, protocol: 'ICMP', notIcmpType: 5 }),
    parsedRule({ ipVersion: 6, protocol: 'ICMPv6', icmpType: 128 }),
    parsedRule({ ipVersion: 6, protocol: 'ICMPv6', notIcmpType: 1, notIcmpCode: 3 }),
    parsedRule({ action: 'Log', protocol: 'SCTP', notSrcPorts: many }),
    parsedRule({ action: 'Pass', protocol: '47' }),
    parsedRule({ action: 'Deny', protocol: 'UDPLite', notProtocol: 'TCP', notDstIpSetIds: ['s:blocked'], notDstPorts: ports(9) }),
    parsedRule({ action: 'Deny', notProtocol: 'ICMPv6', notDstNets: ['10.9.0.0/16', 'fd09::/16'] }),
  ],
  egress: [parsedRule({ ipVersion: 4 }), parsedRule({ ipVersion: 6 }), parsedRule({ dstIpSetIds: ['s:egress'] })],
};
const profile: ActiveRules = { id: 'pro/openstack-sg-default', ingress: [], egress: [parsedRule({ action: 'Deny', dstNets: ['198.51.100.0/24', '2001:db8::/32'] })] };
const gnp: ActiveRules = { id: 'gnp/pass-all', ingress: [parsedRule({ action: 'Pass' })], egress: [parsedRule({ action: 'Log' })] };

const tiers = [
  { name: 'platform', ingress: [gnp.id], egress: [gnp.id] },
  { name: 'default', ingress: [policy.id], egress: [policy.id] },
];
const endpoints = [
  localEndpoint('tapabcdef01-23', {
    tiers,
    profileIds: [profile.id],
    allowSpoofedSourcePrefixes: ['10.70.0.0/16', 'fd70::/64'],
    ipv4Nat: [{ internal: '10.65.0.2', external: '172.24.4.10' }],
  }),
  localEndpoint('tapabcdef02-00', { tiers, profileIds: [profile.id] }),
  localEndpoint('tap99999999-99', { adminUp: false }),
  localEndpoint('vnet0', { profileIds: [profile.id] }),
];

function tables(family: IpFamily): Record<TableName, { chains: Chain[]; kernel: Record<string, KernelChainRules> }> {
  const st = renderStaticTables(config, family);
  const ctx = ruleContext(config, family);
  const returnConfig: DataplaneConfig = { ...config, filterAllowAction: 'RETURN', disableConntrackInvalidCheck: true };
  return {
    filter: {
      kernel: st.filter.kernel,
      chains: [
        ...st.filter.chains,
        ...renderDispatchChains(endpoints.map((e) => e.iface).concat('tapreturn'), config),
        ...endpoints.flatMap((e) => renderEndpointChains(e, family, config)),
        ...renderEndpointChains(localEndpoint('tapreturn', { tiers }), family, returnConfig),
        ...[policy, profile, gnp].flatMap((r) => renderRulesChains(r, family, ctx)),
      ],
    },
    raw: { kernel: st.raw.kernel, chains: [...st.raw.chains, renderRpfSkip(endpoints, family)] },
    mangle: st.mangle,
    nat: { kernel: st.nat.kernel, chains: [...st.nat.chains, ...renderFloatingIpChains(endpoints, family)] },
  };
}

describe('the rendered rules load into the kernel', () => {
  for (const family of [4, 6] as const) {
    describe(`IPv${family}`, () => {
      const rendered = tables(family);

      it('has no dangling jump or goto', () => {
        for (const { chains, kernel } of Object.values(rendered)) {
          const names = new Set(chains.map((c) => c.name));
          const rules = [...chains.flatMap((c) => c.rules), ...Object.values(kernel).flatMap((k) => [...k.insert, ...k.append])];
          for (const r of rules) {
            const target = /^-[jg] (\S+)/.exec(r.action)?.[1];
            if (target === undefined || /^[A-Z]+$/.test(target)) continue;
            assert.ok(names.has(target), `missing chain ${target}`);
          }
        }
      });

      for (const backend of ['nft', 'legacy'] as const) {
        describe(`${backend} backend`, () => {
          let ns: TestNetns;
          const tool = `${family === 4 ? 'iptables' : 'ip6tables'}-${backend}`;

          before(async () => {
            ns = await makeTestNetns('brr');
            const text = Object.values(rendered)
              .flatMap((t) => t.chains.flatMap((c) => c.rules))
              .map((r) => r.match)
              .join('\n');
            const sets = new Set([...text.matchAll(/--match-set (\S+)/g)].map((m) => m[1] ?? ''));
            assert.ok(sets.size >= 4, 'the fixture references IP sets');
            for (const set of sets) await ns.must('ipset', ['create', set, 'hash:net', 'family', family === 4 ? 'inet' : 'inet6']);
          });
          after(async () => {
            await ns.remove();
          });

          for (const table of ['raw', 'mangle', 'filter', 'nat'] as const) {
            it(`${table}: iptables-restore --test accepts it, then it loads and reads back`, async () => {
              const { chains, kernel } = rendered[table];
              const input = restoreInput(table, chains, kernel);
              await ns.must(`${tool}-restore`, ['--test'], input);
              await ns.must(`${tool}-restore`, [], input);
              const saved = await ns.must(`${tool}-save`, ['-t', table]);
              for (const chain of chains) {
                assert.match(saved, new RegExp(`^:${chain.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'm'));
                const count = saved.split('\n').filter((l) => l.startsWith(`-A ${chain.name} `)).length;
                assert.equal(count, chain.rules.length, `${table} ${chain.name}`);
              }
              for (const [name, rules] of Object.entries(kernel)) {
                const count = saved.split('\n').filter((l) => l.startsWith(`-A ${name} `)).length;
                assert.equal(count, rules.insert.length + rules.append.length, `${table} ${name}`);
              }
            });
          }
        });
      }
    });
  }
});
