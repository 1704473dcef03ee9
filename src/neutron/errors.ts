import { BrindleError } from '../lib/index.js';

/**
 * A Neutron API fault: renders as `{"NeutronError": {"type", "message", "detail"}}` with the
 * type names and status codes Nova (neutronclient maps `type` to `<type>Client` exceptions) and
 * the openstack CLI depend on. `detail` is always present, as neutronclient reads it.
 */
export class NeutronApiError extends BrindleError {
  readonly type: string;
  readonly detail: string;
  constructor(type: string, status: number, message: string, options: { detail?: string; cause?: unknown } = {}) {
    super(`NEUTRON_${type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`, message, {
      status,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.type = type;
    this.detail = options.detail ?? '';
  }

  toBody(): { NeutronError: { type: string; message: string; detail: string } } {
    return { NeutronError: { type: this.type, message: this.message, detail: this.detail } };
  }
}

export type ResourceName = 'Network' | 'Subnet' | 'Port' | 'SecurityGroup' | 'SecurityGroupRule' | 'Agent' | 'Router' | 'FloatingIP';

/** The catalogue: one constructor per fault type Brindle raises. */
export const faults = {
  notFound: (what: ResourceName, id: string) =>
    new NeutronApiError(
      `${what}NotFound`,
      404,
      what === 'SecurityGroup'
        ? `Security group ${id} does not exist`
        : what === 'SecurityGroupRule'
          ? `Security group rule ${id} does not exist`
          : `${what.replace(/([a-z])([A-Z])/g, '$1 $2')} ${id} could not be found.`,
    ),
  httpNotFound: () => new NeutronApiError('HTTPNotFound', 404, 'The resource could not be found.'),
  methodNotAllowed: () => new NeutronApiError('HTTPMethodNotAllowed', 405, 'The method is not allowed for this resource.'),
  badRequest: (message: string) => new NeutronApiError('HTTPBadRequest', 400, message),
  invalidInput: (message: string) => new NeutronApiError('InvalidInput', 400, `Invalid input for operation: ${message}.`),
  tooLarge: () => new NeutronApiError('HTTPRequestEntityTooLarge', 413, 'Request is too large.'),
  notAcceptable: () => new NeutronApiError('HTTPUnsupportedMediaType', 415, 'The request media type is not supported: use application/json.'),
  policy: (rule: string) => new NeutronApiError('PolicyNotAuthorized', 403, `(${rule}) is disallowed by policy`),
  revisionConflict: (wanted: number, current: number) =>
    new NeutronApiError('RevisionNumberConstraintFailed', 412, `Constrained to ${wanted}, but current revision is ${current}`),
  ipAlreadyAllocated: (ip: string, subnetId: string) =>
    new NeutronApiError('IpAddressAlreadyAllocated', 409, `IP address ${ip} already allocated in subnet ${subnetId}`),
  ipGenerationFailure: (networkId: string) => new NeutronApiError('IpAddressGenerationFailure', 409, `No more IP addresses available on network ${networkId}.`),
  invalidIpForNetwork: (ip: string) =>
    new NeutronApiError('InvalidIpForNetwork', 400, `IP address ${ip} is not a valid IP for any of the subnets on the specified network.`),
  invalidIpForSubnet: (ip: string) => new NeutronApiError('InvalidIpForSubnet', 400, `IP address ${ip} is not a valid IP for the specified subnet.`),
  macInUse: (networkId: string, mac: string) =>
    new NeutronApiError('MacAddressInUse', 409, `Unable to complete operation for network ${networkId}. The mac address ${mac} is in use.`),
  overQuota: (resource: string) => new NeutronApiError('OverQuota', 409, `Quota exceeded for resources: ['${resource}'].`),
  quotaRecounting: (resource: string, project: string) =>
    new NeutronApiError('HTTPConflict', 409, `The ${resource} quota of project ${project} was just set and its usage is being counted; try again.`),
  networkInUse: (networkId: string, ports: readonly string[]) =>
    new NeutronApiError(
      'NetworkInUse',
      409,
      `Unable to complete operation on network ${networkId}. There are one or more ports still in use on the network, id for these ports is: ${ports.join(',')}.`,
    ),
  subnetInUse: (subnetId: string, ports: readonly string[]) =>
    new NeutronApiError(
      'SubnetInUse',
      409,
      `Unable to complete operation on subnet ${subnetId}: One or more ports have an IP allocation from this subnet. Ports: ${ports.join(',')}.`,
    ),
  overlappingSubnet: (cidr: string, networkId: string, other: string) =>
    new NeutronApiError(
      'InvalidInput',
      400,
      `Invalid input for operation: Requested subnet with cidr: ${cidr} for network: ${networkId} overlaps with another subnet (${other}); Calico networks share one address space, so subnets may not overlap anywhere in the cloud.`,
    ),
  invalidAllocationPool: (pool: string) => new NeutronApiError('InvalidAllocationPool', 400, `The allocation pool ${pool} spanning is not valid.`),
  outOfBoundsPool: (pool: string, cidr: string) =>
    new NeutronApiError('OutOfBoundsAllocationPool', 400, `The allocation pool ${pool} spans beyond the subnet cidr ${cidr}.`),
  overlappingPools: (a: string, b: string) => new NeutronApiError('OverlappingAllocationPools', 409, `Found overlapping allocation pools: ${a} and ${b}.`),
  gatewayInPool: (gw: string, pool: string) =>
    new NeutronApiError('GatewayConflictWithAllocationPools', 409, `Gateway ip ${gw} conflicts with allocation pool ${pool}.`),
  gatewayInUse: (ip: string, port: string) =>
    new NeutronApiError('GatewayIpInUse', 409, `Current gateway ip ${ip} already in use by port ${port}. Unable to update.`),
  flatNetworkInUse: (physnet: string) =>
    new NeutronApiError('FlatNetworkInUse', 409, `Unable to create the flat network. Physical network ${physnet} is in use.`),
  unsupportedNetworkType: (type: string) =>
    new NeutronApiError(
      'InvalidInput',
      400,
      `Invalid input for operation: network type ${type} is not supported: Calico networks are flat or local provider networks (routed, no VLANs, VXLAN or other overlays).`,
    ),
  sgRuleExists: (ruleId: string) => new NeutronApiError('SecurityGroupRuleExists', 409, `Security group rule already exists. Rule id is ${ruleId}.`),
  sgInUse: (id: string) => new NeutronApiError('SecurityGroupInUse', 409, `Security Group ${id} in use.`),
  sgCannotRemoveDefault: () => new NeutronApiError('SecurityGroupCannotRemoveDefault', 409, 'Insufficient rights for removing default security group.'),
  sgInvalidProtocol: (protocol: string) =>
    new NeutronApiError(
      'SecurityGroupRuleInvalidProtocol',
      400,
      `Security group rule protocol ${protocol} not supported. Only protocol values [None, tcp, udp, icmp, icmpv6, ...] and integer representations [0 to 255] are supported.`,
    ),
  sgInvalidPortRange: (detail: string) => new NeutronApiError('SecurityGroupInvalidPortRange', 400, detail),
  sgInvalidIcmpValue: (field: string, value: number) =>
    new NeutronApiError(
      'SecurityGroupInvalidIcmpValue',
      400,
      `Invalid value for ICMP ${field} (${field === 'type' ? 'port-range-min' : 'port-range-max'}): ${value}. It must be 0 to 255.`,
    ),
  sgInvalidPortValue: (port: number | string) => new NeutronApiError('SecurityGroupInvalidPortValue', 400, `Invalid value for port ${port}`),
  sgMissingIcmpType: (code: number) =>
    new NeutronApiError('SecurityGroupMissingIcmpType', 400, `ICMP code (port-range-max) ${code} is provided but ICMP type (port-range-min) is missing.`),
  sgInvalidProtocolForPort: (protocol: string) =>
    new NeutronApiError(
      'SecurityGroupInvalidProtocolForPort',
      400,
      `Invalid protocol ${protocol} for port range, only supported for TCP, UDP, UDPLITE, SCTP, DCCP protocols.`,
    ),
  sgProtocolRequiredWithPorts: () => new NeutronApiError('SecurityGroupProtocolRequiredWithPorts', 400, 'Must also specify protocol if port range is given.'),
  sgRemoteConflict: () => new NeutronApiError('SecurityGroupRemoteGroupAndRemoteIpPrefix', 400, 'Only remote_ip_prefix or remote_group_id may be provided.'),
  sgEthertypeConflict: (ethertype: string, cidr: string) =>
    new NeutronApiError('SecurityGroupRuleParameterConflict', 400, `Conflicting value ethertype ${ethertype} for CIDR ${cidr}`),
  sgEthertypeProtocolConflict: (ethertype: string, protocol: string) =>
    new NeutronApiError('SecurityGroupEthertypeConflictWithProtocol', 400, `Invalid ethertype ${ethertype} for protocol ${protocol}.`),
  sgDefaultExists: () => new NeutronApiError('SecurityGroupDefaultAlreadyExists', 409, 'Default security group already exists.'),
  sgCannotUpdateDefault: () => new NeutronApiError('SecurityGroupCannotUpdateDefault', 409, 'Updating default security group not allowed.'),
  sgNotSupported: (what: string) => new NeutronApiError('InvalidInput', 400, `Invalid input for operation: ${what} is not supported by Calico.`),
  portBound: (id: string, vifType: string, oldMac: string, newMac: string) =>
    new NeutronApiError(
      'PortBound',
      409,
      `Unable to complete operation on port ${id}, port is already bound, port type: ${vifType}, old_mac ${oldMac}, new_mac ${newMac}.`,
    ),
  portSecurityRequired: () =>
    new NeutronApiError(
      'PortSecurityAndIPRequiredForSecurityGroups',
      400,
      'Port security must be enabled and port must have an IP address in order to use security groups.',
    ),
  addressPairsNeedSecurity: () =>
    new NeutronApiError('AddressPairAndPortSecurityRequired', 409, 'Port Security must be enabled in order to have allowed address pairs on a port.'),
  conflictRetry: (what: string, id: string) => new NeutronApiError('HTTPConflict', 409, `${what} ${id} was changed by another request; try again.`),
  /** Neutron's generic `BadRequest(resource=..., msg=...)`. */
  badResourceRequest: (resource: string, message: string) => new NeutronApiError('BadRequest', 400, `Bad ${resource} request: ${message}.`),
  externalGatewayNotFound: (subnetId: string, networkId: string, portId: string) =>
    new NeutronApiError(
      'ExternalGatewayForFloatingIPNotFound',
      404,
      `External network ${networkId} is not reachable from subnet ${subnetId}.  Therefore, cannot associate Port ${portId} with a Floating IP.`,
    ),
  fipPortAssociated: (o: { address: string; fipId: string; portId: string; fixedIp: string; networkId: string }) =>
    new NeutronApiError(
      'FloatingIPPortAlreadyAssociated',
      409,
      `Cannot associate floating IP ${o.address} (${o.fipId}) with port ${o.portId} using fixed IP ${o.fixedIp}, as that fixed IP already has a floating IP on external network ${o.networkId}.`,
    ),
  routerInUse: (routerId: string) => new NeutronApiError('RouterInUse', 409, `Router ${routerId} still has ports`),
  routerInterfaceNotFoundForSubnet: (routerId: string, subnetId: string) =>
    new NeutronApiError('RouterInterfaceNotFoundForSubnet', 404, `Router ${routerId} has no interface on subnet ${subnetId}`),
  routerInterfaceNotFound: (routerId: string, portId: string) =>
    new NeutronApiError('RouterInterfaceNotFound', 404, `Router ${routerId} does not have an interface with id ${portId}`),
  routerInterfaceInUseByFip: (routerId: string, subnetId: string) =>
    new NeutronApiError(
      'RouterInterfaceInUseByFloatingIP',
      409,
      `Router interface for subnet ${subnetId} on router ${routerId} cannot be deleted, as it is required by one or more floating IPs.`,
    ),
  routerGatewayInUseByFip: (routerId: string, networkId: string) =>
    new NeutronApiError(
      'RouterExternalGatewayInUseByFloatingIp',
      409,
      `Gateway cannot be updated for router ${routerId}, since a gateway to external network ${networkId} is required by one or more floating IPs.`,
    ),
  externalNetworkInUse: (networkId: string) =>
    new NeutronApiError(
      'ExternalNetworkInUse',
      409,
      `External network ${networkId} cannot be updated to be made non-external, since it has existing gateway ports.`,
    ),
  ipInUse: (networkId: string, ip: string) =>
    new NeutronApiError(
      'IpAddressInUse',
      409,
      `Unable to complete operation for network ${networkId}. The IP address ${ip} is in use (a floating IP leads to it: disassociate it first).`,
    ),
  portInUse: (networkId: string, portId: string, deviceId: string) =>
    new NeutronApiError(
      'PortInUse',
      409,
      `Unable to complete operation on port ${portId} for network ${networkId}. Port already has an attached device ${deviceId}.`,
    ),
  servicePortInUse: (portId: string, owner: string) =>
    new NeutronApiError('ServicePortInUse', 409, `Port ${portId} cannot be deleted directly via the port API: has device owner ${owner}.`),
  notImplemented: (what: string) => new NeutronApiError('HTTPNotImplemented', 501, `${what} is not implemented by Brindle.`),
  internal: (cause: unknown) =>
    new NeutronApiError('HTTPInternalServerError', 500, 'Request Failed: internal server error while processing your request.', { cause }),
  unavailable: (cause: unknown) => new NeutronApiError('ServiceUnavailable', 503, 'The datastore is unavailable; try again shortly.', { cause }),
} as const;
