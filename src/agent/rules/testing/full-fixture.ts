/**
 * Test helper: a complete rendered ruleset exercising every rule shape the renderer writes
 * (policy rules with every match kind, tiers, profiles, spoofing allowances, a floating IP, an
 * admin-down tap, RETURN as the allow action), per family and table. The iptables kernel test
 * and the nftables one load the same rules.
 */
import type { ActiveRules, IpFamily } from '../../calc/model.js';
import { DEFAULT_DATAPLANE_CONFIG, type DataplaneConfig } from '../../config.js';
import type { Chain, KernelChainRules, TableName } from '../../dataplane/iptables/chain.js';
import {
  renderDispatchChains,
  renderEndpointChains,
  renderFloatingIpChains,
  renderNatOutgoing,
  renderRpfSkip,
  renderRulesChains,
  renderStaticTables,
  ruleContext,
} from '../index.js';
import { localEndpoint } from './local-endpoint.js';
import { parsedRule } from './parsed-rule.js';

const config: DataplaneConfig = {
  ...DEFAULT_DATAPLANE_CONFIG,
  interfacePrefixes: ['tap', 'vnet'],
  failsafeInbound: [
    ...DEFAULT_DATAPLANE_CONFIG.failsafeInbound,
    { protocol: 'tcp', port: 2222, net: '10.0.0.0/8' },
    { protocol: 'tcp', port: 2222, net: 'fd00::/8' },
  ],
  failsafeOutbound: [...DEFAULT_DATAPLANE_CONFIG.failsafeOutbound, { protocol: 'udp', port: 123, net: '192.0.2.0/24' }],
};

const ports = (...p: number[]): { first: number; last: number }[] => p.map((n) => ({ first: n, last: n }));
const many = Array.from({ length: 20 }, (_, i) => ({ first: 2000 + i * 10, last: 2000 + i * 10 + (i % 2) * 5 }));

const policy: ActiveRules = {
  id: 'np/openstack/ossg.default.5f2b7c1e-6a3d-4e0b-9c41-2f7e8d9a0b1c',
  ingress: [
    parsedRule({ srcIpSetIds: ['s:remote-group-a', 's:remote-group-b'] }),
    parsedRule({ protocol: 'TCP', srcNets: ['0.0.0.0/0', '::/0'], dstPorts: [{ first: 1000, last: 2000 }] }),
    parsedRule({
      protocol: 'UDP',
      srcNets: ['10.0.0.0/8', '192.168.0.0/16', 'fd00::/8', 'fe80::/10'],
      notSrcNets: ['10.1.0.0/16', 'fd00:1::/32'],
      dstPorts: many,
    }),
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
const profile: ActiveRules = {
  id: 'pro/openstack-sg-default',
  ingress: [],
  egress: [parsedRule({ action: 'Deny', dstNets: ['198.51.100.0/24', '2001:db8::/32'] })],
};
const gnp: ActiveRules = { id: 'gnp/pass-all', ingress: [parsedRule({ action: 'Pass' })], egress: [parsedRule({ action: 'Log' })] };

const tiers = [
  { name: 'platform', ingress: [gnp.id], egress: [gnp.id] },
  { name: 'default', ingress: [policy.id], egress: [policy.id] },
];
/** The taps of the fixture (also in its dispatch). */
export const fixtureEndpoints = [
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

/** Every table's chains and kernel-chain rules for `family`. */
export function fullFixture(family: IpFamily): Record<TableName, { chains: Chain[]; kernel: Record<string, KernelChainRules> }> {
  const st = renderStaticTables(config, family);
  const ctx = ruleContext(config, family);
  const returnConfig: DataplaneConfig = { ...config, filterAllowAction: 'RETURN', disableConntrackInvalidCheck: true };
  return {
    filter: {
      kernel: st.filter.kernel,
      chains: [
        ...st.filter.chains,
        ...renderDispatchChains(fixtureEndpoints.map((e) => e.iface).concat('tapreturn'), config),
        ...fixtureEndpoints.flatMap((e) => renderEndpointChains(e, family, config)),
        ...renderEndpointChains(localEndpoint('tapreturn', { tiers }), family, returnConfig),
        ...[policy, profile, gnp].flatMap((r) => renderRulesChains(r, family, ctx)),
      ],
    },
    raw: { kernel: st.raw.kernel, chains: [...st.raw.chains, renderRpfSkip(fixtureEndpoints, family)] },
    mangle: st.mangle,
    nat: {
      kernel: st.nat.kernel,
      chains: [
        ...st.nat.chains.filter((c) => c.name !== 'cali-nat-outgoing'),
        ...renderFloatingIpChains(fixtureEndpoints, family),
        renderNatOutgoing(family, true),
      ],
    },
  };
}
