// The inputs behind src/bgp/testdata/*.conf.
import type { BirdRenderInput } from '../render-bird-config.js';
import { bgpConfiguration, bgpPeer, calicoNode } from './fixtures.js';

export interface GoldenCase {
  /** The golden file is `src/bgp/testdata/<name>.conf`. */
  readonly name: string;
  readonly input: BirdRenderInput;
}

const base = { bgpConfigurations: [], peers: [], interfacePrefixes: ['tap'] } as const;

/** Three nodes, both families; node-b has its own AS; 10.0.0.10 > 10.0.0.9 numerically. */
const mesh3 = {
  ...base,
  nodeName: 'node-a',
  nodes: [
    calicoNode('node-c', { ipv4Address: '10.0.0.2/24', ipv6Address: 'fd00::2/64' }),
    calicoNode('node-a', { ipv4Address: '10.0.0.9/24', ipv6Address: 'fd00::9/64' }),
    calicoNode('node-b', { ipv4Address: '10.0.0.10/24', ipv6Address: 'fd00::10/64', asNumber: 65001 }),
  ],
  bgpConfigurations: [bgpConfiguration('default', { nodeMeshMaxRestartTime: '2m' })],
  interfacePrefixes: ['tap', 'vnet'],
};

/** Two reflectors in one cluster, two clients, mesh off. */
const rrNodes = [
  calicoNode('rr-1', { ipv4Address: '10.0.1.1/24', routeReflectorClusterID: '224.0.0.1' }),
  calicoNode('rr-2', { ipv4Address: '10.0.1.2/24', routeReflectorClusterID: '224.0.0.1' }),
  calicoNode('client-a', { ipv4Address: '10.0.0.1/24' }),
  calicoNode('client-b', { ipv4Address: '10.0.0.2/24' }),
];
const meshOff = [bgpConfiguration('default', { nodeToNodeMeshEnabled: false, asNumber: 64600 })];

/** Rendered for node-a (rack r1): a border router, a ToR for node-a only, node-b by selector. */
const peers = {
  ...base,
  nodeName: 'node-a',
  nodes: [
    calicoNode('node-a', { ipv4Address: '10.0.0.1/24', labels: { rack: 'r1' } }),
    calicoNode('node-b', { ipv4Address: '10.0.0.2/24', labels: { rack: 'r1', role: 'edge' } }),
    calicoNode('node-c', { ipv4Address: '10.0.0.3/24', labels: { rack: 'r2' } }),
  ],
  bgpConfigurations: [bgpConfiguration('default', { asNumber: 64512, listenPort: 1790 })],
  peers: [
    bgpPeer('border', { nodeSelector: "rack == 'r1'", peerIP: '192.0.2.1', asNumber: 65000, ttlSecurity: 2, maxRestartTime: '2m' }),
    bgpPeer('rack-tor', {
      node: 'node-a',
      peerIP: '192.0.2.254:1179',
      asNumber: 65100,
      keepOriginalNextHop: true,
      maxRestartTime: '1m30s',
      numAllowedLocalASNumbers: 1,
      sourceAddress: 'None',
    }),
    bgpPeer('edge-nodes', { peerSelector: "role == 'edge'" }),
    bgpPeer('other-rack', { nodeSelector: "rack == 'r2'", peerIP: '192.0.2.2', asNumber: 65000 }),
  ],
};

const ipv6Only = {
  ...base,
  nodeName: 'v6-a',
  nodes: [calicoNode('v6-a', { ipv6Address: 'fd00:1::a/64' }), calicoNode('v6-b', { ipv6Address: 'fd00:1::b/64' })],
  peers: [bgpPeer('border-v6', { peerIP: '[fd00:ff::1]:1179', asNumber: 65000 })],
};

const logDebug = {
  ...base,
  nodeName: 'node-a',
  nodes: [calicoNode('node-a', { ipv4Address: '10.0.0.1' }), calicoNode('node-b', { ipv4Address: '10.0.0.2' })],
  bgpConfigurations: [
    bgpConfiguration('default', { logSeverityScreen: 'Warning' }),
    bgpConfiguration('node.node-a', { logSeverityScreen: 'Debug' }),
    bgpConfiguration('node.node-b', { logSeverityScreen: 'Error' }),
  ],
  logFile: '/var/log/brindle/bird.log',
};

export const GOLDEN_CASES: readonly GoldenCase[] = [
  { name: 'mesh-3-nodes', input: mesh3 },
  { name: 'mesh-off-route-reflector-client', input: { ...base, nodeName: 'client-a', nodes: rrNodes, bgpConfigurations: meshOff } },
  { name: 'mesh-off-route-reflector-reflector', input: { ...base, nodeName: 'rr-1', nodes: rrNodes, bgpConfigurations: meshOff } },
  { name: 'global-and-node-peers', input: peers },
  { name: 'ipv6-only', input: ipv6Only },
  { name: 'log-debug', input: logDebug },
];
