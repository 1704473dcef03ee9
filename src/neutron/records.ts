import { z } from 'zod';

/**
 * Neutron's objects as Brindle stores them (under /brindle/neutron/v1/), in the exact shape of
 * Neutron's admin-view responses (reference/neutron-api.md §3), so a response is the stored
 * record minus fields the caller may not see or did not ask for.
 */

/** What every owned object carries (security group rules and floating IPs have no name). */
const ownedAttrs = {
  id: z.string(),
  tenant_id: z.string(),
  project_id: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
  revision_number: z.number().int(),
};
const standardAttrs = { ...ownedAttrs, name: z.string() };

export const networkRecordSchema = z.object({
  ...standardAttrs,
  admin_state_up: z.boolean(),
  mtu: z.number().int(),
  status: z.enum(['ACTIVE', 'DOWN', 'BUILD', 'ERROR']),
  subnets: z.array(z.string()),
  shared: z.boolean(),
  availability_zone_hints: z.array(z.string()),
  availability_zones: z.array(z.string()),
  ipv4_address_scope: z.null(),
  ipv6_address_scope: z.null(),
  'router:external': z.boolean(),
  port_security_enabled: z.boolean(),
  'provider:network_type': z.enum(['flat', 'local']),
  'provider:physical_network': z.string().nullable(),
  'provider:segmentation_id': z.null(),
});
export type NetworkRecord = z.infer<typeof networkRecordSchema>;

export const allocationPoolSchema = z.object({ start: z.string(), end: z.string() });
export const hostRouteSchema = z.object({ destination: z.string(), nexthop: z.string() });

export const subnetRecordSchema = z.object({
  ...standardAttrs,
  network_id: z.string(),
  ip_version: z.union([z.literal(4), z.literal(6)]),
  subnetpool_id: z.null(),
  enable_dhcp: z.boolean(),
  ipv6_ra_mode: z.enum(['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless']).nullable(),
  ipv6_address_mode: z.enum(['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless']).nullable(),
  gateway_ip: z.string().nullable(),
  cidr: z.string(),
  allocation_pools: z.array(allocationPoolSchema),
  host_routes: z.array(hostRouteSchema),
  dns_nameservers: z.array(z.string()),
  service_types: z.array(z.string()),
});
export type SubnetRecord = z.infer<typeof subnetRecordSchema>;

export const fixedIpSchema = z.object({ subnet_id: z.string(), ip_address: z.string() });
export type FixedIp = z.infer<typeof fixedIpSchema>;
export const addressPairSchema = z.object({ ip_address: z.string(), mac_address: z.string() });

export const portRecordSchema = z.object({
  ...standardAttrs,
  network_id: z.string(),
  mac_address: z.string(),
  admin_state_up: z.boolean(),
  status: z.enum(['ACTIVE', 'DOWN', 'BUILD', 'ERROR']),
  device_id: z.string(),
  device_owner: z.string(),
  fixed_ips: z.array(fixedIpSchema),
  port_security_enabled: z.boolean(),
  security_groups: z.array(z.string()),
  'binding:vnic_type': z.string(),
  'binding:profile': z.record(z.string(), z.unknown()),
  'binding:host_id': z.string(),
  'binding:vif_type': z.string(),
  'binding:vif_details': z.record(z.string(), z.unknown()),
  allowed_address_pairs: z.array(addressPairSchema),
  extra_dhcp_opts: z.array(z.object({ opt_name: z.string(), opt_value: z.string(), ip_version: z.number().int().optional() })),
});
export type PortRecord = z.infer<typeof portRecordSchema>;

export const securityGroupRuleRecordSchema = z.object({
  id: z.string(),
  tenant_id: z.string(),
  project_id: z.string(),
  security_group_id: z.string(),
  ethertype: z.enum(['IPv4', 'IPv6']),
  direction: z.enum(['ingress', 'egress']),
  protocol: z.string().nullable(),
  port_range_min: z.number().int().nullable(),
  port_range_max: z.number().int().nullable(),
  remote_ip_prefix: z.string().nullable(),
  remote_address_group_id: z.null(),
  normalized_cidr: z.string().nullable(),
  remote_group_id: z.string().nullable(),
  description: z.string(),
  tags: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
  revision_number: z.number().int(),
});
export type SecurityGroupRuleRecord = z.infer<typeof securityGroupRuleRecordSchema>;

/** Stored without its rules; responses embed them (`security_group_rules`). */
export const securityGroupRecordSchema = z.object({
  ...standardAttrs,
  stateful: z.boolean(),
  shared: z.boolean(),
});
export type SecurityGroupRecord = z.infer<typeof securityGroupRecordSchema>;

export const externalGatewaySchema = z.object({
  network_id: z.string(),
  external_fixed_ips: z.array(fixedIpSchema),
});

/**
 * A router, as Neutron's clients need it to attach floating IPs: in Calico every network is
 * routed by the compute hosts, so a router forwards nothing. It records which subnets "reach"
 * which external network (its interfaces are ports with device_owner `network:router_interface`,
 * its gateway a port with `network:router_gateway`), which floating IP association checks.
 */
export const routerRecordSchema = z.object({
  ...standardAttrs,
  admin_state_up: z.boolean(),
  status: z.enum(['ACTIVE', 'DOWN', 'ERROR']),
  external_gateway_info: externalGatewaySchema.nullable(),
  routes: z.array(hostRouteSchema),
  availability_zone_hints: z.array(z.string()),
  availability_zones: z.array(z.string()),
  flavor_id: z.null(),
});
export type RouterRecord = z.infer<typeof routerRecordSchema>;

/**
 * A floating IP: an address on an external network, held by a `network:floatingip` port.
 * `floating_port_id` names that port; it is Brindle's bookkeeping (Neutron keeps it in its DB,
 * not in responses), so views drop it.
 */
export const floatingIpRecordSchema = z.object({
  ...ownedAttrs,
  floating_network_id: z.string(),
  floating_ip_address: z.string(),
  router_id: z.string().nullable(),
  port_id: z.string().nullable(),
  fixed_ip_address: z.string().nullable(),
  status: z.enum(['ACTIVE', 'DOWN', 'ERROR']),
  floating_port_id: z.string(),
});
export type FloatingIpRecord = z.infer<typeof floatingIpRecordSchema>;
