// bgp: BIRD configuration for this node's BGP sessions.
export { renderBirdConfig, type BirdRenderInput, type BirdSession, type BgpPeerType, type RenderedBird } from './render-bird-config.js';
export { BgpNodeNotReadyError } from './errors.js';
