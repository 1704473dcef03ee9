import { matchSelector, parseSelector, peerAddress, parseIp, type BGPPeer, type Selector } from '../model/index.js';
import { addressOf, type BirdNode } from './bird-node.js';
import type { PlannedSession } from './planned-session.js';
import { asPlain, BGP_PORT, restartSeconds, type BirdSettings } from './resolve-bird-settings.js';

interface Target {
  readonly family: 4 | 6;
  readonly ip: string;
  readonly as: number;
  readonly port: number;
  readonly node?: BirdNode;
}

function selector(text: string): Selector | string {
  try {
    return parseSelector(text);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** The port of a `peerIP` (`IPv4:port`, `[IPv6]:port`): 179 when none, a problem when out of range. */
function peerPort(peerIP: string): number | string {
  const m = /^\[[^\]]+\]:(\d+)$/.exec(peerIP) ?? /^[\d.]+:(\d+)$/.exec(peerIP);
  if (m === null) return BGP_PORT;
  const port = Number(m[1]);
  return port >= 1 && port <= 65535 ? port : `port ${port} is out of range`;
}

/** The peers a BGPPeer names: Calico nodes by `peerSelector`, or one router by `peerIP`. */
function targets(peer: BGPPeer, settings: BirdSettings, warn: (m: string) => void): Target[] {
  const { spec } = peer;
  const { me } = settings;
  const skip = (m: string): Target[] => {
    warn(`${m}; skipped`);
    return [];
  };
  if (spec.peerSelector !== undefined) {
    const sel = selector(spec.peerSelector);
    if (typeof sel === 'string') return skip(`peerSelector is invalid (${sel})`);
    const out: Target[] = [];
    for (const node of settings.others.filter((n) => matchSelector(sel, n.labels))) {
      for (const family of [4, 6] as const) {
        const ip = addressOf(node, family);
        if (ip !== undefined && addressOf(me, family) !== undefined) out.push({ family, ip, as: node.asNumber, port: node.port, node });
      }
    }
    return out;
  }
  const ip = spec.peerIP === undefined ? undefined : peerAddress(spec.peerIP);
  if (spec.peerIP === undefined || ip === undefined) return skip('needs a valid peerIP or a peerSelector');
  if (spec.asNumber === undefined) return skip('peerIP without asNumber');
  const port = peerPort(spec.peerIP);
  if (typeof port === 'string') return skip(`peerIP ${spec.peerIP}: ${port}`);
  const family = parseIp(ip)?.family ?? 4;
  if (ip === addressOf(me, family)) return [];
  if (addressOf(me, family) === undefined) return skip(`this node has no IPv${family} address for peer ${ip}`);
  const as = asPlain(spec.asNumber);
  const node = settings.others.find((n) => addressOf(n, family) === ip);
  return [{ family, ip, as, port, ...(node === undefined ? {} : { node }) }];
}

/**
 * Calico's reverse peerings: when a BGPPeer's peerSelector picks this node, this node peers
 * back with every node the BGPPeer applies to (its `node` or `nodeSelector`), so both ends of
 * such a session exist.
 */
function reverseTargets(peer: BGPPeer, settings: BirdSettings): Target[] {
  const { me } = settings;
  if (peer.spec.peerSelector === undefined) return [];
  const sel = selector(peer.spec.peerSelector);
  if (typeof sel === 'string' || !matchSelector(sel, me.labels)) return [];
  const out: Target[] = [];
  for (const node of settings.others.filter((n) => appliesAs(peer, n, () => {}) !== undefined)) {
    for (const family of [4, 6] as const) {
      const ip = addressOf(node, family);
      if (ip !== undefined && addressOf(me, family) !== undefined) out.push({ family, ip, as: node.asNumber, port: node.port, node });
    }
  }
  return out;
}

/** Whether a BGPPeer applies to this node, and as what: `node` (spec.node) or `global`. */
function appliesAs(peer: BGPPeer, me: BirdNode, warn: (m: string) => void): 'node' | 'global' | undefined {
  if (peer.spec.node !== undefined && peer.spec.node !== '') return peer.spec.node === me.name ? 'node' : undefined;
  if (peer.spec.nodeSelector === undefined) return 'global';
  const sel = selector(peer.spec.nodeSelector);
  if (typeof sel === 'string') {
    warn(`nodeSelector is invalid (${sel}); skipped`);
    return undefined;
  }
  return matchSelector(sel, me.labels) ? 'global' : undefined;
}

/**
 * The sessions BGPPeer resources ask of this node (Calico semantics). External routers and
 * eBGP peers get this node's own routes only. A peer that is one of our nodes in our AS, seen
 * from a reflector, gets reflected routes too, and is a reflector client unless it is a
 * reflector itself. Problems skip the peer with a warning; nothing here throws.
 */
export function peerSessions(peers: readonly BGPPeer[], settings: BirdSettings, warnings: string[]): PlannedSession[] {
  const { me } = settings;
  const sessions: PlannedSession[] = [];
  const sorted = [...peers].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
  for (const peer of sorted) {
    const name = peer.metadata.name;
    const warn = (m: string): void => void warnings.push(`BGPPeer ${name}: ${m}`);
    const forward = appliesAs(peer, me, warn);
    const reverse = reverseTargets(peer, settings);
    const type = forward ?? (reverse.length > 0 ? 'global' : undefined);
    if (type === undefined) continue;
    const { spec } = peer;
    const restart = spec.maxRestartTime === undefined ? undefined : restartSeconds(spec.maxRestartTime);
    if (typeof restart === 'string') {
      warn(`maxRestartTime ${restart}; skipped`);
      continue;
    }
    const found: Target[] = [];
    for (const t of [...(forward === undefined ? [] : targets(peer, settings, warn)), ...reverse]) {
      if (!found.some((f) => f.family === t.family && f.ip === t.ip)) found.push(t);
    }
    if (found.length === 0) continue;
    if (spec.password !== undefined) {
      warn(`password (secret ${spec.password.secretKeyRef.name}) cannot be read without Kubernetes; the session has no password`);
    }
    if (spec.filters !== undefined && spec.filters.length > 0) warn('BGPFilters are not supported; ignored');
    if (spec.reachableBy !== undefined) warn('reachableBy is not supported; ignored');
    for (const t of found) {
      const reflect = t.node !== undefined && t.as === me.asNumber && me.clusterId !== undefined;
      const rrClient = reflect && t.node?.clusterId === undefined;
      const localIp = spec.sourceAddress === 'None' ? undefined : addressOf(me, t.family);
      sessions.push({
        family: t.family,
        peerIp: t.ip,
        peerAs: t.as,
        peerPort: t.port,
        type,
        ...(t.node === undefined ? {} : { peerNode: t.node.name }),
        ...(localIp === undefined ? {} : { localIp }),
        localAs: me.asNumber,
        localPort: me.port,
        description: `BGPPeer ${name}${t.node === undefined ? '' : ` (node ${t.node.name})`}`,
        passive: false,
        ...(rrClient ? { rrClient: settings.rrClusterId === undefined ? {} : { clusterId: settings.rrClusterId } } : {}),
        exportFilter: reflect ? 'brindle_export_reflect' : 'brindle_export',
        nextHop: spec.keepOriginalNextHop === true ? 'keep' : rrClient ? 'default' : 'self',
        ...(restart === undefined ? {} : { restartTime: restart }),
        ...(spec.ttlSecurity !== undefined && spec.ttlSecurity > 0 ? { ttlSecurity: spec.ttlSecurity } : {}),
        ...(spec.numAllowedLocalASNumbers !== undefined && spec.numAllowedLocalASNumbers > 0 ? { allowLocalAs: spec.numAllowedLocalASNumbers } : {}),
        bgpPeer: name,
      });
    }
  }
  return sessions;
}
