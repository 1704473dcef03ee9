import type { BgpPeerType } from './bgp-peer-type.js';

/** Which export filter a session uses: own workload routes only, or also reflected BGP routes. */
export type ExportFilter = 'brindle_export' | 'brindle_export_reflect';

/** One BGP session as planned, with everything its `protocol bgp` block needs. */
export interface PlannedSession {
  readonly family: 4 | 6;
  readonly peerIp: string;
  readonly peerAs: number;
  /** The port the peer listens on. */
  readonly peerPort: number;
  readonly type: BgpPeerType;
  readonly peerNode?: string;
  /** Our address for the session; absent with BGPPeer `sourceAddress: None`. */
  readonly localIp?: string;
  readonly localAs: number;
  readonly localPort: number;
  readonly description: string;
  readonly passive: boolean;
  /** `rr client`, with `rr cluster id` when the reflector's cluster id is usable. */
  readonly rrClient?: { readonly clusterId?: string };
  readonly exportFilter: ExportFilter;
  /** `self` and `keep` are written; `default` leaves BIRD's iBGP default (keep a client's next hop). */
  readonly nextHop: 'self' | 'keep' | 'default';
  readonly restartTime?: number;
  readonly ttlSecurity?: number;
  readonly allowLocalAs?: number;
  /** The BGPPeer this session comes from (for dedupe warnings). */
  readonly bgpPeer?: string;
}
