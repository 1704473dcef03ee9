// Neutron's resources declared once each (attribute map: schema, POST/PUT, required, default):
// request validation, defaults, the policy's attribute checks and the services' input types all
// come from these declarations.
export { nt, type FaultParams } from './neutron-types.js';
export {
  attr,
  defineResource,
  present,
  readOnly,
  type AttributeDecl,
  type Attributes,
  type CreateInput,
  type ResourceDecl,
  type UpdateInput,
} from './resource.js';
export { parseCreate, parseUpdate } from './parse-request.js';
export { NETWORK, type NetworkChanges, type NetworkInput } from './network.js';
export { SUBNET, type SubnetChanges, type SubnetInput } from './subnet.js';
export { PORT, type PortChanges, type PortInput } from './port.js';
export { SECURITY_GROUP, SECURITY_GROUP_RULE, type RuleInput, type SecurityGroupChanges, type SecurityGroupInput } from './security-group.js';
export { ROUTER, ROUTER_INTERFACE, type RouterChanges, type RouterInput, type RouterInterfaceInput } from './router.js';
export { FLOATING_IP, type FloatingIpChanges, type FloatingIpInput } from './floating-ip.js';
