import { z } from 'zod';
import { nt } from './neutron-types.js';
import { attr, defineResource, type CreateInput, type UpdateInput } from './resource.js';
import { named } from './standard-attributes.js';

const ipv6Mode = nt.oneOf(['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless']).nullable();
const pool = nt.dict({ start: nt.ip(), end: nt.ip() }, ['start', 'end']);
const hostRoute = nt.dict({ destination: nt.cidr(), nexthop: nt.ip() }, ['destination', 'nexthop']);

/** A subnet (one address space: no two overlap anywhere in the cloud). */
const SUBNET_ATTRIBUTES = {
  ...named,
  network_id: attr(nt.uuid(), { required: true }),
  ip_version: attr(z.literal([4, 6], { error: (iss) => `${JSON.stringify(iss.input)} is not in [4, 6]` }), { required: true }),
  cidr: attr(nt.cidr()),
  gateway_ip: attr(nt.ip().nullable(), { put: true }),
  allocation_pools: attr(nt.list(pool), { put: true }),
  dns_nameservers: attr(nt.uniqueList(nt.ip()), { put: true }),
  host_routes: attr(nt.list(hostRoute), { put: true }),
  enable_dhcp: attr(nt.boolean(), { put: true, default: true }),
  ipv6_ra_mode: attr(ipv6Mode),
  ipv6_address_mode: attr(ipv6Mode),
  service_types: attr(nt.list(nt.string(255)), { put: true }),
  subnetpool_id: attr(nt.string(255).nullable()),
  segment_id: attr(nt.string(255).nullable()),
};
export const SUBNET = defineResource('subnet', 'subnets', SUBNET_ATTRIBUTES);
export type SubnetInput = CreateInput<typeof SUBNET>;
export type SubnetChanges = UpdateInput<typeof SUBNET>;
