/**
 * The rule renderer: pure functions from the calculation's model (endpoints, policies,
 * profiles) and the agent's configuration to iptables chains. No I/O; see DESIGN.md.
 */
export { endpointChainNames, ipSetName, lengthLimitedName, MAX_CHAIN_NAME_LENGTH, MAX_IP_SET_NAME_LENGTH, policyChainName } from './chain-names.js';
export { ruleContext, type RuleContext } from './rule-context.js';
export { renderRule } from './render-rule.js';
export { renderRulesChains } from './render-policy.js';
export { renderEndpointChains } from './render-endpoint.js';
export { renderDispatchChains } from './render-dispatch.js';
export { renderStaticTables, type StaticTable } from './render-static.js';
export { renderRpfSkip } from './render-rpf-skip.js';
export { renderFloatingIpChains } from './render-floating-ip-chains.js';
export { renderNatOutgoing, POOL_SETS } from './render-nat-outgoing.js';
