import { API_VERSION, type CalicoNodeStatus } from '../model/index.js';
import type { BirdProtocol } from './parse-bird-protocols.js';
import type { BirdStatus } from './parse-bird-status.js';
import type { BgpPeerType, BirdSession } from './render-bird-config.js';

/** One rendered session with what BIRD says of it. */
export interface SessionStatus extends BirdSession {
  readonly state: 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established' | 'Close';
  readonly since: string;
  readonly info: string;
  readonly routesImported: number;
  readonly routesExported: number;
}

const PEER_TYPES: Record<BgpPeerType, 'NodeMesh' | 'NodePeer' | 'GlobalPeer' | 'RouteReflector' | 'RouteReflectorClient'> = {
  mesh: 'NodeMesh',
  node: 'NodePeer',
  global: 'GlobalPeer',
  reflector: 'RouteReflector',
  client: 'RouteReflectorClient',
};

export interface NodeStatusInput {
  readonly hostname: string;
  readonly sessions: readonly SessionStatus[];
  /** Undefined when this host runs no BIRD of ours (`--no-bgp`). */
  readonly bird: { readonly protocols: readonly BirdProtocol[]; readonly starts: number; readonly status?: BirdStatus | undefined } | undefined;
  readonly configError: string | undefined;
  readonly periodSeconds: number;
  readonly now: number;
}

/** This host's CalicoNodeStatus (Calico's v3 shape), from its sessions as BIRD reports them. */
export function nodeStatusOf(i: NodeStatusInput): CalicoNodeStatus {
  const fam = (f: 4 | 6): SessionStatus[] => i.sessions.filter((s) => s.family === f);
  const peers = (f: 4 | 6) => fam(f).map((s) => ({ peerIP: s.peerIp, type: PEER_TYPES[s.type], state: s.state, since: s.since, info: s.info }));
  const established = (f: 4 | 6): number => fam(f).filter((s) => s.state === 'Established').length;
  const ready = i.bird !== undefined && i.bird.protocols.length > 0;
  const st = i.bird?.status;
  const birdInfo = {
    state: ready ? ('Ready' as const) : ('NotReady' as const),
    ...(st?.version === undefined ? {} : { version: st.version }),
    ...(st?.routerId === undefined ? {} : { routerID: st.routerId }),
    ...(st?.lastReboot === undefined ? {} : { lastBootTime: st.lastReboot }),
    ...(st?.lastReconfiguration === undefined ? {} : { lastReconfigurationTime: st.lastReconfiguration }),
    ...(i.configError === undefined ? {} : { lastConfigError: i.configError }),
  };
  return {
    apiVersion: API_VERSION,
    kind: 'CalicoNodeStatus',
    metadata: { name: i.hostname },
    spec: { node: i.hostname, classes: ['Agent', 'BGP'], updatePeriodSeconds: i.periodSeconds },
    status: {
      lastUpdated: new Date(i.now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      agent: { birdV4: birdInfo, birdV6: birdInfo },
      bgp: {
        numberEstablishedV4: established(4),
        numberEstablishedV6: established(6),
        numberNotEstablishedV4: fam(4).length - established(4),
        numberNotEstablishedV6: fam(6).length - established(6),
        peersV4: peers(4),
        peersV6: peers(6),
      },
    },
  };
}

/**
 * Equal apart from lastUpdated and the peers' free-text info (a session that keeps failing
 * changes its last error every retry): a state change is written at once, the rest once a period.
 */
export function sameStatus(a: unknown, b: CalicoNodeStatus): boolean {
  const strip = (x: unknown): string => JSON.stringify(x, (k, v: unknown) => (k === 'lastUpdated' || k === 'resourceVersion' || k === 'info' ? undefined : v));
  return strip(a) === strip(b);
}
