// Golden test of reference §1.15: what one OpenStack VM with one security group adds to the
// IPv4 filter table under the default configuration, line by line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ActiveRules } from '../calc/model.js';
import { DEFAULT_DATAPLANE_CONFIG } from '../config.js';
import { renderDispatchChains, renderEndpointChains, renderRulesChains, ruleContext } from './index.js';
import { localEndpoint, parsedRule, ruleLines } from './testing/index.js';

const SG_POLICY = 'np/openstack/ossg.default.5f2b7c1e-6a3d-4e0b-9c41-2f7e8d9a0b1c';
// base64url(SHA-256('openstack/ossg.default.5f2b…')) computed independently of the code.
const PI = 'cali-pi-_DXoqduGW6L1oKTTH8nN';
const PO = 'cali-po-_DXoqduGW6L1oKTTH8nN';
const REMOTE_SG_SET = 's:7bzl4Qp9tCO6YPb-pZkmn2OAbCdEfGh';

const vm = localEndpoint('tapabcdef01-23', {
  ipv4Nets: ['10.65.0.2/32'],
  tiers: [{ name: 'default', ingress: [SG_POLICY], egress: [SG_POLICY] }],
});

const sg: ActiveRules = {
  id: SG_POLICY,
  ingress: [
    // Neutron: ingress from members of the same SG (remote group), any protocol.
    parsedRule({ ipVersion: 4, srcIpSetIds: [REMOTE_SG_SET] }),
    // Neutron: ingress TCP 1000-2000 from 0.0.0.0/0.
    parsedRule({ ipVersion: 4, protocol: 'TCP', srcNets: ['0.0.0.0/0'], dstPorts: [{ first: 1000, last: 2000 }] }),
  ],
  // Neutron's default egress rules: everything, per family.
  egress: [parsedRule({ ipVersion: 4 }), parsedRule({ ipVersion: 6 })],
};

const ACCEPT_RETURN = '-m mark --mark 0x10000/0x10000 -j RETURN';

describe('§1.15 schematic: one VM, one security group (IPv4)', () => {
  const chains = [
    ...renderDispatchChains([vm.iface], DEFAULT_DATAPLANE_CONFIG),
    ...renderEndpointChains(vm, 4, DEFAULT_DATAPLANE_CONFIG),
    ...renderRulesChains(sg, 4, ruleContext(DEFAULT_DATAPLANE_CONFIG, 4)),
  ];
  const got = Object.fromEntries(chains.map((c) => [c.name, ruleLines(c.rules)]));

  it('renders exactly these chains and lines', () => {
    assert.deepEqual(got, {
      'cali-from-wl-dispatch': ['-i tapabcdef01-23 -g cali-fw-tapabcdef01-23', '-j DROP # Unknown interface'],
      'cali-to-wl-dispatch': ['-o tapabcdef01-23 -g cali-tw-tapabcdef01-23', '-j DROP # Unknown interface'],
      'cali-tw-tapabcdef01-23': [
        '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-m conntrack --ctstate INVALID -j DROP',
        '-j MARK --set-mark 0/0x30000',
        '-j MARK --set-mark 0/0x20000 # Start of tier default',
        `-m mark --mark 0/0x20000 -j ${PI}`,
        `${ACCEPT_RETURN} # Return if policy accepted`,
        '-m mark --mark 0/0x20000 -j DROP # End of tier default. Drop if no policies passed packet',
        '-j DROP # Drop if no profiles matched',
      ],
      'cali-fw-tapabcdef01-23': [
        '-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-m conntrack --ctstate INVALID -j DROP',
        '-j MARK --set-mark 0/0x30000',
        '-p udp -m multiport --destination-ports 4789 -j DROP # Drop VXLAN encapped packets originating in workloads',
        '-p 4 -j DROP # Drop IPinIP encapped packets originating in workloads',
        '-j MARK --set-mark 0/0x20000 # Start of tier default',
        `-m mark --mark 0/0x20000 -j ${PO}`,
        `${ACCEPT_RETURN} # Return if policy accepted`,
        '-m mark --mark 0/0x20000 -j DROP # End of tier default. Drop if no policies passed packet',
        '-j DROP # Drop if no profiles matched',
      ],
      [PI]: [
        `-m set --match-set cali40s:7bzl4Qp9tCO6YPb-pZkmn2O src -j MARK --set-mark 0x10000/0x10000 # Policy ${SG_POLICY} ingress`,
        ACCEPT_RETURN,
        '-p tcp --source 0.0.0.0/0 -m multiport --destination-ports 1000:2000 -j MARK --set-mark 0x10000/0x10000',
      ],
      [PO]: [`-j MARK --set-mark 0x10000/0x10000 # Policy ${SG_POLICY} egress`],
    });
  });

  it('every jump and goto target is one of the rendered chains (or a verdict)', () => {
    const names = new Set(chains.map((c) => c.name));
    for (const c of chains) {
      for (const r of c.rules) {
        const target = /^-[jg] (\S+)/.exec(r.action)?.[1];
        if (target === undefined || /^[A-Z]+$/.test(target)) continue;
        assert.ok(names.has(target), `${c.name} → ${target}`);
      }
    }
  });
});
