/**
 * Renders this node's BIRD 2 configuration (one process for IPv4 and IPv6) from the Calico
 * resources. Pure: same input, byte-identical output; nothing here does I/O or throws except
 * `BgpNodeNotReadyError` when this node's Node resource is missing or has no address.
 *
 * - Router id: the node's IPv4 address, else the FNV-1 hash of its name in IPv4 form. AS:
 *   `spec.bgp.asNumber`, else BGPConfiguration `node.<name>`, then `default`, else 64512; the
 *   same order gives `listenPort` (default 179) and, for this node, `logSeverityScreen`.
 * - Export: only the agent's routes — learned from the kernel with `proto boot` on a workload
 *   interface, /32 or /128 (`brindle_export`); a reflector also passes on BGP routes to its
 *   clients and other reflectors (`brindle_export_reflect`). External and eBGP peers get own
 *   routes only. The kernel gets only BGP-learned routes (`brindle_kernel`, `proto bird`).
 * - Sessions per address family, between addresses of that family:
 *   `Mesh_`: every other non-reflector when `nodeToNodeMeshEnabled` (default true) and this node
 *   is not a reflector; `RR_`: a route reflector (a node with `routeReflectorClusterID`);
 *   `Client_`: a non-reflector, seen from a reflector (`rr client`, client's next hop kept);
 *   `Global_`/`Node_`: BGPPeers for all or selected nodes / for this node by name.
 *   A BGPPeer session to one of our nodes in our AS, seen from a reflector, reflects too (and is
 *   `rr client` unless the peer is a reflector), so a BGPPeer never loses route reflection.
 *   Sessions derived from Nodes exist on both ends, so the end with the numerically higher
 *   address is `passive on`. BGPPeer sessions are always active.
 * - One session per (family, address): node > global > reflector/client > mesh; a BGPPeer that
 *   loses is reported as a warning, as is anything of a BGPPeer that cannot be rendered
 *   (invalid selector or duration: the peer is skipped; a password: left out).
 */
import type { BGPConfiguration, BGPPeer, CalicoNode } from '../model/index.js';
import type { BgpPeerType } from './bgp-peer-type.js';
import { dedupeSessions } from './dedupe-sessions.js';
import { nodeSessions } from './node-sessions.js';
import { peerSessions } from './peer-sessions.js';
import { protocolName } from './protocol-name.js';
import { renderBgpProtocol } from './render-bgp-protocol.js';
import { renderBirdPreamble } from './render-bird-preamble.js';
import { resolveBirdSettings } from './resolve-bird-settings.js';
import { routerIdHash } from './router-id-hash.js';
import { addressOf, type BirdNode } from './bird-node.js';
import { compareIps } from './compare-ips.js';

export type { BgpPeerType } from './bgp-peer-type.js';

function nodeAddresses(nodes: readonly BirdNode[]): { v4: string[]; v6: string[] } {
  const pick = (family: 4 | 6): string[] =>
    [...new Set(nodes.map((n) => addressOf(n, family)).filter((a): a is string => a !== undefined))].sort((a, b) => compareIps(a, b));
  return { v4: pick(4), v6: pick(6) };
}

/** A session in the rendered configuration, for status reporting. */
export interface BirdSession {
  readonly protocol: string;
  readonly family: 4 | 6;
  readonly peerIp: string;
  readonly peerAs: number;
  readonly type: BgpPeerType;
  /** The Calico node's name when the peer is one of ours. */
  readonly peerNode?: string;
}

export interface BirdRenderInput {
  readonly nodeName: string;
  /** Every Node resource in the datastore, this one included. */
  readonly nodes: readonly CalicoNode[];
  /** `default` and any `node.<name>`. */
  readonly bgpConfigurations: readonly BGPConfiguration[];
  readonly peers: readonly BGPPeer[];
  /** Workload interface prefixes, e.g. `['tap']`. */
  readonly interfacePrefixes: readonly string[];
  /** BIRD logs here; absent = `log stderr`. */
  readonly logFile?: string;
}

export interface RenderedBird {
  readonly config: string;
  readonly sessions: readonly BirdSession[];
  readonly routerId: string;
  readonly warnings: readonly string[];
}

const IFACE_PREFIX_RE = /^[A-Za-z0-9._-]+$/;

export function renderBirdConfig(input: BirdRenderInput): RenderedBird {
  const warnings: string[] = [];
  const settings = resolveBirdSettings(input, warnings);
  const prefixes = [...new Set(input.interfacePrefixes)].filter((p) => {
    if (IFACE_PREFIX_RE.test(p)) return true;
    warnings.push(`Interface prefix ${JSON.stringify(p)} is not a plain interface name prefix; ignored`);
    return false;
  });
  const planned = dedupeSessions([...peerSessions(input.peers, settings, warnings), ...nodeSessions(settings, warnings)], warnings);
  const routerId = settings.me.ipv4 ?? routerIdHash(input.nodeName);
  const lines = renderBirdPreamble({
    nodeName: input.nodeName,
    routerId,
    logSeverity: settings.logSeverity,
    ...(input.logFile === undefined ? {} : { logFile: input.logFile }),
    interfacePrefixes: prefixes,
    nodeAddresses: nodeAddresses([settings.me, ...settings.others]),
  });
  for (const s of planned) lines.push('', ...renderBgpProtocol(s));
  const sessions = planned.map((s): BirdSession => ({
    protocol: protocolName(s),
    family: s.family,
    peerIp: s.peerIp,
    peerAs: s.peerAs,
    type: s.type,
    ...(s.peerNode === undefined ? {} : { peerNode: s.peerNode }),
  }));
  return { config: `${lines.join('\n')}\n`, sessions, routerId, warnings };
}
