export { portToEndpoint, portWantsEndpoint, endpointNameForPort, SG_LABEL_PREFIX, SG_NAME_LABEL_PREFIX, type EndpointInputs } from './port-to-endpoint.js';
export { securityGroupToPolicy, ruleToCalico, policyName, sgSelector, isIcmpProtocol, IP_PROTOCOL_MAP } from './sg-to-policy.js';
export { subnetToDhcp } from './subnet-to-dhcp.js';
