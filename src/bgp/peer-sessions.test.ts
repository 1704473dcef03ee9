// Sessions from BGPPeer resources, de-duplication, and the warnings for what cannot be rendered.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BGPPeer, CalicoNode } from '../model/index.js';
import { renderBirdConfig, type RenderedBird } from './index.js';
import { bgpPeer, calicoNode } from './testing/index.js';

const NODES: readonly CalicoNode[] = [
  calicoNode('a', { ipv4Address: '10.0.0.1/24', labels: { rack: 'r1' } }),
  calicoNode('b', { ipv4Address: '10.0.0.2/24', ipv6Address: 'fd00::2', labels: { rack: 'r1', edge: 'true' } }),
  calicoNode('c', { ipv4Address: '10.0.0.3/24', labels: { rack: 'r2', edge: 'true' } }),
  calicoNode('r', { ipv4Address: '10.0.0.100/24', routeReflectorClusterID: '1.2.3.4' }),
];

function render(peers: readonly BGPPeer[], nodeName = 'a'): RenderedBird {
  return renderBirdConfig({ nodeName, nodes: NODES, bgpConfigurations: [], peers, interfacePrefixes: ['tap'] });
}

interface Case {
  readonly name: string;
  readonly peers: readonly BGPPeer[];
  readonly nodeName?: string;
  /** `protocol type peerAs [peerNode]` for every session. */
  readonly want: readonly string[];
  readonly warnings?: readonly RegExp[];
}

const meshB = 'Mesh_10_0_0_2 mesh 64512 b';
const meshC = 'Mesh_10_0_0_3 mesh 64512 c';
const toR = 'RR_10_0_0_100 reflector 64512 r';
const border = (spec: Partial<BGPPeer['spec']> = {}): BGPPeer['spec'] => ({ peerIP: '192.0.2.1', asNumber: 65000, ...spec });

const cases: readonly Case[] = [
  { name: 'no peers: mesh and reflector only', peers: [], want: [meshB, meshC, toR] },
  { name: 'a global peer applies to every node', peers: [bgpPeer('p', border())], want: [meshB, meshC, toR, 'Global_192_0_2_1 global 65000'] },
  { name: 'a node peer for another node does not apply', peers: [bgpPeer('p', border({ node: 'b' }))], want: [meshB, meshC, toR] },
  { name: 'a node peer for this node', peers: [bgpPeer('p', border({ node: 'a' }))], want: [meshB, meshC, toR, 'Node_192_0_2_1 node 65000'] },
  { name: 'a nodeSelector that does not match', peers: [bgpPeer('p', border({ nodeSelector: "rack == 'r2'" }))], want: [meshB, meshC, toR] },
  {
    name: 'a peerSelector peers with matching nodes (their addresses, AS, port), never itself, and wins over the mesh; picked itself, this node peers back with every node the BGPPeer applies to (r too)',
    peers: [bgpPeer('p', { peerSelector: 'has(edge) || rack == "r1"' })],
    want: ['Global_10_0_0_2 global 64512 b', 'Global_10_0_0_3 global 64512 c', 'Global_10_0_0_100 global 64512 r'],
  },
  {
    name: 'reverse peering: a peerSelector that picks this node makes it peer back with the nodes the BGPPeer applies to',
    peers: [bgpPeer('r1-to-r2', { nodeSelector: "rack == 'r2'", peerSelector: "rack == 'r1'" })],
    want: [meshB, 'Global_10_0_0_3 global 64512 c', toR],
  },
  {
    name: 'reverse peering: the nodes the BGPPeer applies to peer with the selected ones (the other end)',
    nodeName: 'c',
    peers: [bgpPeer('r1-to-r2', { nodeSelector: "rack == 'r2'", peerSelector: "rack == 'r1'" })],
    want: ['Global_10_0_0_1 global 64512 a', 'Global_10_0_0_2 global 64512 b', 'RR_10_0_0_100 reflector 64512 r'],
  },
  {
    name: 'a peerIP of one of our nodes is that node, with the BGPPeer AS',
    peers: [bgpPeer('p', { peerIP: '10.0.0.3', asNumber: 65003 })],
    want: [meshB, 'Global_10_0_0_3 global 65003 c', toR],
  },
  { name: 'a peerIP that is this node is skipped quietly', peers: [bgpPeer('p', { peerIP: '10.0.0.1', asNumber: 64512 })], want: [meshB, meshC, toR] },
  {
    name: 'node > global: the global one is dropped with a warning',
    peers: [bgpPeer('g', border()), bgpPeer('n', border({ node: 'a', asNumber: 65001 }))],
    want: [meshB, meshC, toR, 'Node_192_0_2_1 node 65001'],
    warnings: [/BGPPeer g: session to 192\.0\.2\.1 left out: BGPPeer n \(node\) peers with it already/],
  },
  {
    name: 'two globals to one address: the first by name wins',
    peers: [bgpPeer('z', border({ asNumber: 65009 })), bgpPeer('m', border())],
    want: [meshB, meshC, toR, 'Global_192_0_2_1 global 65000'],
    warnings: [/BGPPeer z: session to 192\.0\.2\.1 left out: BGPPeer m \(global\)/],
  },
  {
    name: 'a global peer on a reflector replaces the reflector session without a warning',
    peers: [bgpPeer('to-r', { peerSelector: 'all()' })],
    want: ['Global_10_0_0_2 global 64512 b', 'Global_10_0_0_3 global 64512 c', 'Global_10_0_0_100 global 64512 r'],
  },
  {
    name: 'invalid selectors and durations skip the peer, with a warning',
    peers: [
      bgpPeer('bad-node-sel', border({ nodeSelector: 'rack ==' })),
      bgpPeer('bad-peer-sel', { peerSelector: '((' }),
      bgpPeer('bad-duration', border({ maxRestartTime: 'soon' })),
      bgpPeer('too-long', border({ maxRestartTime: '2h' })),
    ],
    want: [meshB, meshC, toR],
    warnings: [
      /^BGPPeer bad-duration: maxRestartTime "soon" is not a duration; skipped$/,
      /^BGPPeer bad-node-sel: nodeSelector is invalid/,
      /^BGPPeer bad-peer-sel: peerSelector is invalid/,
      /^BGPPeer too-long: maxRestartTime "2h" is not between 1s and 4095s/,
    ],
  },
  {
    name: 'an IPv6 peer on a node without IPv6 is skipped with a warning',
    peers: [bgpPeer('v6', { peerIP: '[2001:db8::1]:1179', asNumber: 65000 })],
    want: [meshB, meshC, toR],
    warnings: [/BGPPeer v6: this node has no IPv6 address for peer 2001:db8::1; skipped/],
  },
  {
    name: 'a bad port skips the peer',
    peers: [bgpPeer('p', { peerIP: '192.0.2.1:70000', asNumber: 65000 })],
    want: [meshB, meshC, toR],
    warnings: [/BGPPeer p: peerIP 192\.0\.2\.1:70000: port 70000 is out of range; skipped/],
  },
  {
    name: 'on a reflector, a peerSelector peer that is a client node stays a client',
    nodeName: 'r',
    peers: [bgpPeer('clients', { peerSelector: 'has(edge)' })],
    want: ['Client_10_0_0_1 client 64512 a', 'Global_10_0_0_2 global 64512 b', 'Global_10_0_0_3 global 64512 c'],
  },
];

describe('BGPPeer sessions', () => {
  for (const c of cases) {
    it(c.name, () => {
      const out = render(c.peers, c.nodeName);
      assert.deepEqual(
        out.sessions.map((s) => [s.protocol, s.type, s.peerAs, s.peerNode].filter((x) => x !== undefined).join(' ')),
        c.want,
      );
      assert.equal(out.warnings.length, c.warnings?.length ?? 0, out.warnings.join('\n'));
      for (const [i, re] of (c.warnings ?? []).entries()) assert.match(out.warnings[i] ?? '', re);
    });
  }

  it('renders the BGPPeer options', () => {
    const out = render([
      bgpPeer('opts', border({ keepOriginalNextHop: true, maxRestartTime: '1h', sourceAddress: 'None', ttlSecurity: 3, numAllowedLocalASNumbers: 2 })),
    ]);
    const block = out.config.slice(out.config.indexOf('protocol bgp Global_192_0_2_1'));
    assert.match(block, /^ {2}local as 64512;$/m);
    assert.match(block, /^ {2}neighbor 192\.0\.2\.1 as 65000;$/m);
    assert.match(block, /^ {2}ttl security on;\n {2}multihop 3;$/m);
    assert.match(block, /^ {2}allow local as 2;$/m);
    assert.match(block, /^ {2}graceful restart time 3600;$/m);
    assert.match(block, /^ {4}next hop keep;$/m);
    assert.match(block, /^ {4}export filter brindle_export;$/m);
  });

  it('leaves a password out, with a warning that names the secret and never a value', () => {
    const out = render([bgpPeer('pw', border({ password: { secretKeyRef: { name: 'bgp-secrets', key: 'border' } } }))]);
    assert.ok(out.sessions.some((s) => s.protocol === 'Global_192_0_2_1'));
    assert.doesNotMatch(out.config, /password/);
    assert.deepEqual(out.warnings, ['BGPPeer pw: password (secret bgp-secrets) cannot be read without Kubernetes; the session has no password']);
  });

  it('on a reflector, a selected client gets rr client and reflected routes; an external peer does not', () => {
    const out = render([bgpPeer('clients', { peerSelector: 'has(edge)' }), bgpPeer('ext', border())], 'r');
    const blockOf = (p: string): string => out.config.slice(out.config.indexOf(`protocol bgp ${p} `)).split('\n}\n')[0] ?? '';
    assert.match(blockOf('Global_10_0_0_2'), /rr client;\n {2}rr cluster id 1\.2\.3\.4;/);
    assert.match(blockOf('Global_10_0_0_2'), /export filter brindle_export_reflect;/);
    assert.doesNotMatch(blockOf('Global_10_0_0_2'), /next hop/);
    assert.doesNotMatch(blockOf('Global_192_0_2_1'), /rr client/);
    assert.match(blockOf('Global_192_0_2_1'), /export filter brindle_export;\n {4}next hop self;/);
  });
});
