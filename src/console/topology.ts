import type { Topology, TopologyEdge, TopologyNode } from './api-types.js';
import type { ConsoleState } from './console-state.js';
import { isAlive } from './views.js';

/** Above this many sessions, Established ones are counted but not drawn (the broken ones always are). */
export const MAX_DRAWN_EDGES = 2_000;
const SIZE = 1_000;

const STATE_RANK: Record<string, number> = { Established: 0, OpenConfirm: 1, OpenSent: 2, Active: 3, Connect: 4, Idle: 5, Close: 6 };

/**
 * Places `ids` evenly on a circle of radius `r` around the centre, from the top, turned by
 * `phase` steps (half a step for the hosts, so their edges to the outer ring do not overlap).
 */
function ring(ids: readonly string[], r: number, phase = 0): Map<string, { x: number; y: number }> {
  const out = new Map<string, { x: number; y: number }>();
  const step = (2 * Math.PI) / Math.max(1, ids.length);
  ids.forEach((id, i) => {
    const a = -Math.PI / 2 + step * (i + phase);
    out.set(id, { x: Math.round(SIZE / 2 + r * Math.cos(a)), y: Math.round(SIZE / 2 + r * Math.sin(a)) });
  });
  return out;
}

/**
 * The BGP picture: route reflectors on an inner ring, hosts on the middle one, border routers
 * (external BGPPeers) outside, and one edge per pair of speakers with a session, coloured by the
 * worse state either end reports. Pure; the page draws it as SVG.
 */
export function topology(s: ConsoleState, now: number): Topology {
  const nodeByAddress = new Map<string, string>();
  const reflectors: string[] = [];
  const hosts: string[] = [];
  for (const { resource: n } of [...s.nodes.values()].sort((a, b) => (a.resource.metadata.name < b.resource.metadata.name ? -1 : 1))) {
    const name = n.metadata.name;
    for (const a of [n.spec.bgp?.ipv4Address, n.spec.bgp?.ipv6Address]) if (a !== undefined) nodeByAddress.set(a.replace(/\/\d+$/, ''), `node:${name}`);
    ((n.spec.bgp?.routeReflectorClusterID ?? '') !== '' ? reflectors : hosts).push(name);
  }
  const externals = new Map<string, string>();
  for (const { resource: p } of s.bgpPeers.values()) {
    if (p.spec.peerIP === undefined || p.spec.peerSelector !== undefined) continue;
    const ip = p.spec.peerIP.replace(/^\[([^\]]+)\]:\d+$/, '$1').replace(/^([\d.]+):\d+$/, '$1');
    const id = `ext:${p.metadata.name}`;
    externals.set(id, p.metadata.name);
    nodeByAddress.set(ip, id);
  }
  // Session ends nobody configured as a Node or BGPPeer still get drawn, as unknown routers.
  const edges = new Map<string, TopologyEdge>();
  for (const [host, st] of s.nodeStatuses) {
    const from = `node:${host}`;
    for (const p of [...(st.status?.bgp?.peersV4 ?? []), ...(st.status?.bgp?.peersV6 ?? [])]) {
      let to = nodeByAddress.get(p.peerIP);
      if (to === undefined) {
        to = `ext:${p.peerIP}`;
        externals.set(to, p.peerIP);
        nodeByAddress.set(p.peerIP, to);
      }
      const key = from < to ? `${from}|${to}` : `${to}|${from}`;
      const old = edges.get(key);
      const worse = old === undefined || (STATE_RANK[p.state] ?? 9) > (STATE_RANK[old.state] ?? 9) ? p.state : old.state;
      edges.set(key, { from: key.split('|')[0] ?? from, to: key.split('|')[1] ?? to, state: worse, established: worse === 'Established' });
    }
  }
  const place = new Map([
    ...ring(
      reflectors.map((n) => `node:${n}`),
      reflectors.length <= 1 ? 0 : 120,
    ),
    ...ring(
      hosts.map((n) => `node:${n}`),
      330,
      0.5,
    ),
    ...ring([...externals.keys()].sort(), 470),
  ]);
  const nodes: TopologyNode[] = [];
  const add = (id: string, label: string, role: TopologyNode['role'], alive: boolean): void => {
    const p = place.get(id) ?? { x: SIZE / 2, y: SIZE / 2 };
    nodes.push({ id, label, role, alive, x: p.x, y: p.y });
  };
  for (const n of reflectors) add(`node:${n}`, n, 'reflector', isAlive(s, n, now));
  for (const n of hosts) add(`node:${n}`, n, 'host', isAlive(s, n, now));
  for (const [id, label] of [...externals].sort()) add(id, label, 'external', true);
  const all = [...edges.values()];
  const broken = all.filter((e) => !e.established);
  const fine = all.filter((e) => e.established);
  const room = Math.max(0, MAX_DRAWN_EDGES - broken.length);
  return { width: SIZE, height: SIZE, nodes, edges: [...broken, ...fine.slice(0, room)], omittedEstablished: Math.max(0, fine.length - room) };
}
