import { BGP_PORT } from './resolve-bird-settings.js';
import type { PlannedSession } from './planned-session.js';

const PREFIX = { mesh: 'Mesh', global: 'Global', node: 'Node', reflector: 'RR', client: 'Client' } as const;

/** `Mesh_10_0_0_2`, `Global_fd00__1_port_1790`: type, peer address with `.`/`:` as `_`, port if not 179. */
export function protocolName(session: Pick<PlannedSession, 'type' | 'peerIp' | 'peerPort'>): string {
  const port = session.peerPort === BGP_PORT ? '' : `_port_${session.peerPort}`;
  return `${PREFIX[session.type]}_${session.peerIp.replace(/[.:]/g, '_')}${port}`;
}
