/** Where a session comes from: the node mesh, a BGPPeer (global or for this node), or route reflection. */
export type BgpPeerType = 'mesh' | 'global' | 'node' | 'reflector' | 'client';
