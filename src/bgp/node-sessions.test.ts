// Sessions that follow from Node resources: mesh, route reflection, passive flags.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CalicoNode } from '../model/index.js';
import { renderBirdConfig } from './index.js';
import { nodeSessions } from './node-sessions.js';
import { protocolName } from './protocol-name.js';
import { resolveBirdSettings } from './resolve-bird-settings.js';
import { bgpConfiguration, calicoNode } from './testing/index.js';

interface Case {
  readonly name: string;
  readonly nodeName: string;
  readonly nodes: readonly CalicoNode[];
  readonly mesh?: boolean;
  /** `protocol type passive|active exportFilter`, one per session, in the order of the nodes' names. */
  readonly want: readonly string[];
  readonly warnings?: readonly RegExp[];
}

const rr = (name: string, ip: string, extra: Parameters<typeof calicoNode>[1] = {}): CalicoNode =>
  calicoNode(name, { ipv4Address: ip, routeReflectorClusterID: '1.2.3.4', ...extra });
const plain = (name: string, ip: string, extra: Parameters<typeof calicoNode>[1] = {}): CalicoNode => calicoNode(name, { ipv4Address: ip, ...extra });

const cases: readonly Case[] = [
  {
    name: 'mesh: the higher address is passive, compared numerically',
    nodeName: 'a',
    nodes: [plain('a', '10.0.0.9'), plain('b', '10.0.0.10'), plain('c', '10.0.0.2'), calicoNode('v6', { ipv6Address: 'fd00::1' })],
    want: ['Mesh_10_0_0_10 mesh passive brindle_export', 'Mesh_10_0_0_2 mesh active brindle_export'],
  },
  {
    name: 'mesh on: non-reflectors mesh among themselves and peer with reflectors',
    nodeName: 'a',
    nodes: [plain('a', '10.0.0.1'), plain('b', '10.0.0.2'), rr('r', '10.0.0.100')],
    want: ['Mesh_10_0_0_2 mesh passive brindle_export', 'RR_10_0_0_100 reflector passive brindle_export'],
  },
  {
    name: 'mesh on: a reflector does not mesh; its peers are clients and reflectors',
    nodeName: 'r',
    nodes: [plain('a', '10.0.0.1'), plain('b', '10.0.0.200'), rr('r', '10.0.0.100'), rr('s', '10.0.0.101')],
    want: [
      'Client_10_0_0_1 client active brindle_export_reflect',
      'Client_10_0_0_200 client passive brindle_export_reflect',
      'RR_10_0_0_101 reflector passive brindle_export_reflect',
    ],
  },
  {
    name: 'mesh off: a client only peers with reflectors',
    nodeName: 'a',
    mesh: false,
    nodes: [plain('a', '10.0.0.1'), plain('b', '10.0.0.2'), rr('r', '10.0.0.100')],
    want: ['RR_10_0_0_100 reflector passive brindle_export'],
  },
  {
    name: 'mesh off, no reflectors: no sessions',
    nodeName: 'a',
    mesh: false,
    nodes: [plain('a', '10.0.0.1'), plain('b', '10.0.0.2')],
    want: [],
  },
  {
    name: 'a node in another AS is peered by eBGP, without reflection',
    nodeName: 'r',
    nodes: [rr('r', '10.0.0.100'), plain('x', '10.0.0.1', { asNumber: 65001 })],
    want: ['Client_10_0_0_1 client active brindle_export'],
    warnings: [/Node x: AS 65001 differs from this node's AS 64512/],
  },
];

describe('nodeSessions', () => {
  for (const c of cases) {
    it(c.name, () => {
      const warnings: string[] = [];
      const bgpConfigurations = c.mesh === false ? [bgpConfiguration('default', { nodeToNodeMeshEnabled: false })] : [];
      const settings = resolveBirdSettings({ nodeName: c.nodeName, nodes: c.nodes, bgpConfigurations }, warnings);
      const got = nodeSessions(settings, warnings).map((s) => `${protocolName(s)} ${s.type} ${s.passive ? 'passive' : 'active'} ${s.exportFilter}`);
      assert.deepEqual(got, c.want);
      assert.equal(warnings.length, c.warnings?.length ?? 0, warnings.join('\n'));
      for (const [i, re] of (c.warnings ?? []).entries()) assert.match(warnings[i] ?? '', re);
    });
  }

  it('a reflector client session keeps the client next hop; a bad cluster id is left to BIRD', () => {
    const nodes = [calicoNode('r', { ipv4Address: '10.0.0.100', routeReflectorClusterID: 'cluster-one' }), plain('a', '10.0.0.1')];
    const out = renderBirdConfig({ nodeName: 'r', nodes, bgpConfigurations: [], peers: [], interfacePrefixes: ['tap'] });
    assert.deepEqual(out.sessions, [{ protocol: 'Client_10_0_0_1', family: 4, peerIp: '10.0.0.1', peerAs: 64512, type: 'client', peerNode: 'a' }]);
    const block = out.config.slice(out.config.indexOf('protocol bgp Client_10_0_0_1'));
    assert.match(block, /rr client;/);
    assert.doesNotMatch(block, /rr cluster id|next hop/);
    assert.match(out.warnings.join('\n'), /routeReflectorClusterID "cluster-one" is neither an IPv4 address nor a number/);
  });

  it('takes AS and listen port per node: spec, then node.<name>, then default', () => {
    const nodes = [plain('a', '10.0.0.1'), plain('b', '10.0.0.2'), plain('c', '10.0.0.3', { asNumber: '1.10' })];
    const bgpConfigurations = [
      bgpConfiguration('default', { asNumber: 65000, listenPort: 1790 }),
      bgpConfiguration('node.b', { asNumber: 65002, listenPort: 1791 }),
    ];
    const out = renderBirdConfig({ nodeName: 'a', nodes, bgpConfigurations, peers: [], interfacePrefixes: ['tap'] });
    assert.deepEqual(
      out.sessions.map((s) => `${s.protocol} ${s.peerAs}`),
      ['Mesh_10_0_0_2_port_1791 65002', 'Mesh_10_0_0_3_port_1790 65546'],
    );
    assert.match(out.config, /local 10\.0\.0\.1 port 1790 as 65000;\n {2}neighbor 10\.0\.0\.2 port 1791 as 65002;/);
  });
});
