// bgp: routes between hosts. Node registration, BIRD's configuration (pure renderer), BIRD run
// and supervised through its control socket, its sessions published as CalicoNodeStatus and metrics.
export { renderBirdConfig, type BirdRenderInput, type BirdSession, type BgpPeerType, type RenderedBird } from './render-bird-config.js';
export {
  BgpNodeNotReadyError,
  BgpAddressConflictError,
  BgpAddressNotFoundError,
  BirdStartError,
  BirdConfigRejectedError,
  BirdCommandError,
  BirdOutputError,
  BirdUnreachableError,
} from './errors.js';
export { BirdControl, type BirdControlOptions, type BirdConfigureResult } from './bird-control.js';
export { BirdReplyReader, parseBirdTranscript, type BirdReply, type BirdReplyLine } from './bird-reply.js';
export { parseBirdProtocols, type BirdProtocol, type BirdChannel, type BirdBgpDetails } from './parse-bird-protocols.js';
export { parseBirdStatus, type BirdStatus } from './parse-bird-status.js';
export { detectBgpAddresses, type BgpAddresses } from './detect-bgp-address.js';
export { registerNode, checkAddressConflicts, desiredNode, type NodeRegistration } from './register-node.js';
export { BirdDaemon, type BirdDaemonOptions, type ApplyOutcome } from './bird-daemon.js';
export { startBgpService, joinSessions, type BgpService, type BgpServiceOptions } from './bgp-service.js';
export { nodeStatusOf, type SessionStatus } from './node-status.js';
export { isClusterId } from './resolve-bird-settings.js';
