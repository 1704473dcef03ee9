import { compareIps } from './compare-ips.js';
import type { PlannedSession } from './planned-session.js';

const RANK = { node: 0, global: 1, reflector: 2, client: 2, mesh: 3 } as const;

/**
 * One session per (family, peer address), by precedence node > global > reflector/client > mesh
 * (the first of equals wins: BGPPeers come sorted by name). A session dropped that came from a
 * BGPPeer is reported; the mesh and reflection give way silently. The result is sorted by family,
 * then peer address (numerically).
 */
export function dedupeSessions(sessions: readonly PlannedSession[], warnings: string[]): PlannedSession[] {
  const kept = new Map<string, PlannedSession>();
  const dropped: { session: PlannedSession; key: string }[] = [];
  for (const s of sessions) {
    const key = `${s.family}/${s.peerIp}`;
    const have = kept.get(key);
    if (have === undefined) {
      kept.set(key, s);
    } else if (RANK[s.type] < RANK[have.type]) {
      kept.set(key, s);
      dropped.push({ session: have, key });
    } else {
      dropped.push({ session: s, key });
    }
  }
  for (const { session, key } of dropped) {
    if (session.bgpPeer === undefined) continue;
    const winner = kept.get(key);
    const by = winner?.bgpPeer === undefined ? `the ${winner?.type ?? ''} session` : `BGPPeer ${winner.bgpPeer} (${winner.type})`;
    warnings.push(`BGPPeer ${session.bgpPeer}: session to ${session.peerIp} left out: ${by} peers with it already`);
  }
  return [...kept.values()].sort((a, b) => a.family - b.family || compareIps(a.peerIp, b.peerIp));
}
