import type { Labels } from '../model/index.js';

/** A Calico node as BGP sees it: addresses without prefix length, effective AS and port. */
export interface BirdNode {
  readonly name: string;
  readonly labels: Labels;
  readonly ipv4?: string;
  readonly ipv6?: string;
  readonly asNumber: number;
  /** The port this node's BIRD listens on (BGPConfiguration listenPort, default 179). */
  readonly port: number;
  /** Set when the node is a route reflector (`spec.bgp.routeReflectorClusterID`). */
  readonly clusterId?: string;
}

/** The node's address of one family, if it has one. */
export function addressOf(node: BirdNode, family: 4 | 6): string | undefined {
  return family === 4 ? node.ipv4 : node.ipv6;
}
