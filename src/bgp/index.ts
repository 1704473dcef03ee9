// bgp: BIRD configuration for this node's BGP sessions.
export { renderBirdConfig, type BirdRenderInput, type BirdSession, type BgpPeerType, type RenderedBird } from './render-bird-config.js';
export { BgpNodeNotReadyError } from './errors.js';
export { BirdControl, type BirdControlOptions, type BirdConfigureResult } from './bird-control.js';
export { BirdCommandError, BirdOutputError, BirdUnreachableError } from './bird-errors.js';
export { BirdReplyReader, parseBirdTranscript, type BirdReply, type BirdReplyLine } from './bird-reply.js';
export { parseBirdProtocols, type BirdProtocol, type BirdChannel, type BirdBgpDetails } from './parse-bird-protocols.js';
export { parseBirdStatus, type BirdStatus } from './parse-bird-status.js';
