import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IpFamily } from '../calc/model.js';
import { DEFAULT_DATAPLANE_CONFIG, type DataplaneConfig } from '../config.js';
import type { TableName } from '../dataplane/iptables/chain.js';
import { renderStaticTables } from './render-static.js';
import { ruleLines } from './testing/index.js';

function chains(config: DataplaneConfig, family: IpFamily, table: TableName): Record<string, string[]> {
  return Object.fromEntries(renderStaticTables(config, family)[table].chains.map((c) => [c.name, ruleLines(c.rules)]));
}

const config: DataplaneConfig = {
  ...DEFAULT_DATAPLANE_CONFIG,
  failsafeInbound: [
    { protocol: 'tcp', port: 22 },
    { protocol: 'tcp', port: 179, net: '10.0.0.0/8' },
    { protocol: 'tcp', port: 179, net: 'fd00::/8' },
  ],
  failsafeOutbound: [
    { protocol: 'udp', port: 53 },
    { protocol: 'tcp', port: 2379, net: '10.1.0.0/16' },
  ],
};

describe('renderStaticTables: filter', () => {
  it('v4, default OpenStack config', () => {
    assert.deepEqual(chains(config, 4, 'filter'), {
      'cali-INPUT': [
        '-i tap+ -g cali-wl-to-host',
        '-m mark --mark 0x10000/0x10000 -j ACCEPT',
        '-j MARK --set-mark 0/0x1b0000',
        '-j cali-from-host-endpoint',
        '-m mark --mark 0x10000/0x10000 -j ACCEPT # Host endpoint policy accepted packet',
      ],
      'cali-wl-to-host': [
        '-p tcp --destination 127.0.0.1/32 -m multiport --destination-ports 8775 -j ACCEPT',
        '-p udp -m multiport --source-ports 68 -m multiport --destination-ports 67 -j ACCEPT',
        '-p udp -m multiport --destination-ports 53 -j ACCEPT',
        '-j cali-from-wl-dispatch',
        '-j DROP # Configured DefaultEndpointToHostAction',
      ],
      'cali-FORWARD': [
        '-j MARK --set-mark 0/0x1a0000',
        '-m mark --mark 0/0x10000 -j cali-from-hep-forward',
        '-i tap+ -j cali-from-wl-dispatch',
        '-o tap+ -j cali-to-wl-dispatch',
        '-j cali-to-hep-forward',
      ],
      'cali-OUTPUT': [
        '-m mark --mark 0x10000/0x10000 -j ACCEPT',
        '-o tap+ -j RETURN',
        '-j MARK --set-mark 0/0x1b0000',
        '-m conntrack ! --ctstate DNAT -j cali-to-host-endpoint',
        '-m mark --mark 0x10000/0x10000 -j ACCEPT # Host endpoint policy accepted packet',
      ],
      'cali-failsafe-in': ['-p tcp -m multiport --destination-ports 22 -j ACCEPT', '-p tcp --source 10.0.0.0/8 -m multiport --destination-ports 179 -j ACCEPT'],
      'cali-failsafe-out': [
        '-p udp -m multiport --destination-ports 53 -j ACCEPT',
        '-p tcp --destination 10.1.0.0/16 -m multiport --destination-ports 2379 -j ACCEPT',
      ],
      'cali-from-host-endpoint': ['-j cali-failsafe-in'],
      'cali-to-host-endpoint': ['-j cali-failsafe-out'],
      'cali-from-hep-forward': [],
      'cali-to-hep-forward': [],
    });
  });

  it('v6: ICMPv6 to the host, DHCPv6, no metadata, v6 failsafe nets only', () => {
    const got = chains(config, 6, 'filter');
    assert.deepEqual(got['cali-wl-to-host'], [
      ...[130, 131, 132, 133, 135, 136].map((t) => `-p ipv6-icmp -m icmp6 --icmpv6-type ${t} -j ACCEPT`),
      '-p udp -m multiport --source-ports 546 -m multiport --destination-ports 547 -j ACCEPT',
      '-p udp -m multiport --destination-ports 53 -j ACCEPT',
      '-j cali-from-wl-dispatch',
      '-j DROP # Configured DefaultEndpointToHostAction',
    ]);
    assert.deepEqual(got['cali-failsafe-in'], [
      '-p tcp -m multiport --destination-ports 22 -j ACCEPT',
      '-p tcp --source fd00::/8 -m multiport --destination-ports 179 -j ACCEPT',
    ]);
  });

  it('several interface prefixes, no metadata, endpoint-to-host RETURN', () => {
    const got = chains({ ...config, interfacePrefixes: ['tap', 'vnet'], metadata: undefined, endpointToHostAction: 'RETURN' }, 4, 'filter');
    assert.deepEqual(got['cali-INPUT']?.slice(0, 2), ['-i tap+ -g cali-wl-to-host', '-i vnet+ -g cali-wl-to-host']);
    assert.deepEqual(got['cali-FORWARD']?.slice(2, 6), [
      '-i tap+ -j cali-from-wl-dispatch',
      '-o tap+ -j cali-to-wl-dispatch',
      '-i vnet+ -j cali-from-wl-dispatch',
      '-o vnet+ -j cali-to-wl-dispatch',
    ]);
    assert.deepEqual(got['cali-OUTPUT']?.slice(1, 3), ['-o tap+ -j RETURN', '-o vnet+ -j RETURN']);
    assert.equal(got['cali-wl-to-host']?.[0], '-p udp -m multiport --source-ports 68 -m multiport --destination-ports 67 -j ACCEPT');
    assert.equal(got['cali-wl-to-host']?.at(-1), '-j RETURN # Configured DefaultEndpointToHostAction');
  });

  it('a metadata address that is not IPv4 gets no rules', () => {
    const cfg = { ...config, metadata: { addr: 'metadata.local', port: 80 } };
    assert.ok(!chains(cfg, 4, 'filter')['cali-wl-to-host']?.some((l) => l.includes('-p tcp')));
    assert.ok(!chains(cfg, 4, 'nat')['cali-PREROUTING']?.some((l) => l.includes('DNAT')));
  });

  it('kernel chains: one jump each, FORWARD also appends accept-if-marked and set-accept', () => {
    const { kernel } = renderStaticTables(config, 4).filter;
    assert.deepEqual(Object.fromEntries(Object.entries(kernel).map(([k, v]) => [k, { insert: ruleLines(v.insert), append: ruleLines(v.append) }])), {
      INPUT: { insert: ['-j cali-INPUT'], append: [] },
      FORWARD: { insert: ['-j cali-FORWARD'], append: ['-m mark --mark 0x10000/0x10000 -j ACCEPT', '-j MARK --set-mark 0x10000/0x10000'] },
      OUTPUT: { insert: ['-j cali-OUTPUT'], append: [] },
    });
  });
});

describe('renderStaticTables: raw, mangle, nat', () => {
  it('raw v4: anti-spoofing with DHCP discover exception', () => {
    assert.deepEqual(chains(config, 4, 'raw'), {
      'cali-PREROUTING': [
        '-j MARK --set-mark 0/0x1b0000',
        '-i tap+ -j MARK --set-mark 0x80000/0x80000',
        '-m mark --mark 0x80000/0x80000 -j cali-rpf-skip',
        '-p udp --source 0.0.0.0/32 -m multiport --source-ports 68 -m multiport --destination-ports 67 -j ACCEPT',
        '-m mark --mark 0x80000/0x80000 -m rpfilter --validmark --invert -j DROP # Drop packets from workloads that fail the reverse path check',
      ],
      'cali-OUTPUT': ['-j MARK --set-mark 0/0x1b0000'],
    });
    const { kernel } = renderStaticTables(config, 4).raw;
    assert.deepEqual(Object.keys(kernel), ['PREROUTING', 'OUTPUT']);
  });

  it('raw v6: no DHCP rule', () => {
    assert.ok(!chains(config, 6, 'raw')['cali-PREROUTING']?.some((l) => l.includes('0.0.0.0')));
    assert.equal(chains(config, 6, 'raw')['cali-PREROUTING']?.length, 4);
  });

  it('mangle', () => {
    assert.deepEqual(chains(config, 4, 'mangle'), {
      'cali-PREROUTING': ['-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT', '-m mark --mark 0x10000/0x10000 -j ACCEPT'],
      'cali-POSTROUTING': ['-m mark --mark 0x10000/0x10000 -j RETURN'],
    });
  });

  it('nat v4 with metadata DNAT; POSTROUTING jump appended', () => {
    assert.deepEqual(chains(config, 4, 'nat'), {
      'cali-PREROUTING': [
        '-j cali-fip-dnat',
        '-p tcp --destination 169.254.169.254/32 -m multiport --destination-ports 80 -j DNAT --to-destination 127.0.0.1:8775',
      ],
      'cali-OUTPUT': ['-j cali-fip-dnat'],
      'cali-POSTROUTING': ['-j cali-fip-snat', '-j cali-nat-outgoing'],
      'cali-nat-outgoing': [],
    });
    const { kernel } = renderStaticTables(config, 4).nat;
    assert.deepEqual(ruleLines(kernel.POSTROUTING?.append ?? []), ['-j cali-POSTROUTING']);
    assert.deepEqual(kernel.POSTROUTING?.insert, []);
    assert.deepEqual(chains(config, 6, 'nat')['cali-PREROUTING'], ['-j cali-fip-dnat']);
  });
});
