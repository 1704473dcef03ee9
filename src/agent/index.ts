// The per-host agent (Felix): calculation, dataplane managers and drivers, status and health.
export { startNodeAgent, type NodeAgent, type NodeAgentOptions } from './node-agent.js';
export { DEFAULT_DATAPLANE_CONFIG, type DataplaneConfig } from './config.js';
export { parseDurationMs, type AgentIntervals } from './felix-config.js';
export { AgentConfigError, IptablesRestoreError, IptablesSaveError } from './errors.js';
export { applyingPolicies, type AppliedPolicy, type AppliedTier } from './calc/applying-policies.js';
