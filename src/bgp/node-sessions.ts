import { compareIps } from './compare-ips.js';
import type { PlannedSession } from './planned-session.js';
import { addressOf } from './bird-node.js';
import type { BirdSettings } from './resolve-bird-settings.js';

const FAMILIES = [4, 6] as const;

/**
 * The sessions that follow from the Node resources alone: the node-to-node mesh between
 * non-reflectors (when enabled), and route reflection — a non-reflector peers with every
 * reflector, a reflector with every non-reflector (its clients) and every other reflector.
 * Every one of them is configured on both ends, so the end with the lower address connects and
 * the other is `passive on` (addresses compared numerically; both ends must agree).
 */
export function nodeSessions(settings: BirdSettings, warnings: string[]): PlannedSession[] {
  const { me } = settings;
  const iAmReflector = me.clusterId !== undefined;
  const clusterId = settings.rrClusterId;
  const sessions: PlannedSession[] = [];
  for (const peer of settings.others) {
    const peerIsReflector = peer.clusterId !== undefined;
    if (!iAmReflector && !peerIsReflector && !settings.meshEnabled) continue;
    const sameAs = peer.asNumber === me.asNumber;
    if ((iAmReflector || peerIsReflector) && !sameAs) {
      warnings.push(`Node ${peer.name}: AS ${peer.asNumber} differs from this node's AS ${me.asNumber}; peered by eBGP without route reflection`);
    }
    for (const family of FAMILIES) {
      const localIp = addressOf(me, family);
      const peerIp = addressOf(peer, family);
      if (localIp === undefined || peerIp === undefined) continue;
      const base = {
        family,
        peerIp,
        peerAs: peer.asNumber,
        peerPort: peer.port,
        peerNode: peer.name,
        localIp,
        localAs: me.asNumber,
        localPort: me.port,
        passive: compareIps(peerIp, localIp) > 0,
      };
      if (!iAmReflector && !peerIsReflector) {
        sessions.push({
          ...base,
          type: 'mesh',
          description: `Mesh to node ${peer.name}`,
          exportFilter: 'brindle_export',
          nextHop: 'self',
          ...(settings.meshRestartTime === undefined ? {} : { restartTime: settings.meshRestartTime }),
        });
      } else if (peerIsReflector) {
        sessions.push({
          ...base,
          type: 'reflector',
          description: `Route reflector ${peer.name}`,
          exportFilter: iAmReflector && sameAs ? 'brindle_export_reflect' : 'brindle_export',
          // Between reflectors the clients' next hops pass unchanged (a reflector may not forward).
          nextHop: iAmReflector && sameAs ? 'default' : 'self',
        });
      } else if (sameAs) {
        sessions.push({
          ...base,
          type: 'client',
          description: `Route reflector client ${peer.name}`,
          rrClient: clusterId === undefined ? {} : { clusterId },
          exportFilter: 'brindle_export_reflect',
          nextHop: 'default',
        });
      } else {
        sessions.push({ ...base, type: 'client', description: `Node ${peer.name} (other AS)`, exportFilter: 'brindle_export', nextHop: 'self' });
      }
    }
  }
  return sessions;
}
