import { faults } from '../errors.js';
import { v, type Specs, type Validator } from './attributes.js';

/** Request attributes per resource, with Neutron's POST/PUT rules (reference/neutron-api.md §3). */
const std = {
  name: { validate: v.string(255), allowPost: true, allowPut: true },
  description: { validate: v.string(255), allowPost: true, allowPut: true },
  tenant_id: { validate: v.projectId(), allowPost: true, allowPut: false },
  project_id: { validate: v.projectId(), allowPost: true, allowPut: false },
};

export const NETWORK_SPECS: Specs = {
  ...std,
  admin_state_up: { validate: v.boolean(), allowPost: true, allowPut: true },
  shared: { validate: v.boolean(), allowPost: true, allowPut: true, default: false },
  mtu: { validate: v.int(68, 9216), allowPost: true, allowPut: true },
  port_security_enabled: { validate: v.boolean(), allowPost: true, allowPut: true, default: true },
  'router:external': { validate: v.boolean(), allowPost: true, allowPut: true, default: false },
  'provider:network_type': { validate: v.string(255), allowPost: true, allowPut: false },
  'provider:physical_network': { validate: v.nullable(v.string(64)), allowPost: true, allowPut: false },
  'provider:segmentation_id': { validate: v.nullable(v.int(0, 16777215)), allowPost: true, allowPut: false },
  availability_zone_hints: { validate: v.list(v.string(255)), allowPost: true, allowPut: false },
};

const ipv6Mode = v.nullable(v.oneOf(['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless']));
const pool = v.dict({ start: { validate: v.ip(), required: true }, end: { validate: v.ip(), required: true } });
const hostRoute = v.dict({ destination: { validate: v.cidr(), required: true }, nexthop: { validate: v.ip(), required: true } });

export const SUBNET_SPECS: Specs = {
  ...std,
  network_id: { validate: v.uuid(), allowPost: true, allowPut: false, required: true },
  ip_version: { validate: v.int(4, 6), allowPost: true, allowPut: false, required: true },
  cidr: { validate: v.cidr(), allowPost: true, allowPut: false },
  gateway_ip: { validate: v.nullable(v.ip()), allowPost: true, allowPut: true },
  allocation_pools: { validate: v.list(pool), allowPost: true, allowPut: true },
  dns_nameservers: { validate: v.uniqueList(v.ip()), allowPost: true, allowPut: true },
  host_routes: { validate: v.list(hostRoute), allowPost: true, allowPut: true },
  enable_dhcp: { validate: v.boolean(), allowPost: true, allowPut: true },
  ipv6_ra_mode: { validate: ipv6Mode, allowPost: true, allowPut: false },
  ipv6_address_mode: { validate: ipv6Mode, allowPost: true, allowPut: false },
  service_types: { validate: v.list(v.string(255)), allowPost: true, allowPut: true },
  subnetpool_id: { validate: v.nullable(v.string(255)), allowPost: true, allowPut: false },
  segment_id: { validate: v.nullable(v.string(255)), allowPost: true, allowPut: false },
};

const fixedIp = v.dict({ subnet_id: { validate: v.uuid() }, ip_address: { validate: v.ip() } });
const addressPair = v.dict({ ip_address: { validate: (x) => (v.ip()(x).ok ? v.ip()(x) : v.cidr()(x)), required: true }, mac_address: { validate: v.mac() } });
const dhcpOpt = v.dict({
  opt_name: { validate: v.string(255), required: true },
  opt_value: { validate: v.string(255), required: true },
  ip_version: { validate: v.int(4, 6) },
});

export const PORT_SPECS: Specs = {
  ...std,
  network_id: { validate: v.uuid(), allowPost: true, allowPut: false, required: true },
  admin_state_up: { validate: v.boolean(), allowPost: true, allowPut: true },
  mac_address: { validate: v.mac(), allowPost: true, allowPut: true },
  fixed_ips: { validate: v.list(fixedIp), allowPost: true, allowPut: true },
  device_id: { validate: v.string(255), allowPost: true, allowPut: true },
  device_owner: { validate: v.string(255), allowPost: true, allowPut: true, default: '' },
  security_groups: { validate: v.list(v.uuid()), allowPost: true, allowPut: true },
  port_security_enabled: { validate: v.boolean(), allowPost: true, allowPut: true, default: true },
  allowed_address_pairs: { validate: v.list(addressPair, 10), allowPost: true, allowPut: true },
  extra_dhcp_opts: { validate: v.list(dhcpOpt), allowPost: true, allowPut: true },
  'binding:host_id': { validate: v.nullable(v.string(255)), allowPost: true, allowPut: true },
  'binding:profile': { validate: v.nullable(v.anyDict()), allowPost: true, allowPut: true },
  'binding:vnic_type': {
    validate: v.oneOf(['normal', 'direct', 'macvtap', 'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic', 'vdpa', 'remote-managed']),
    allowPost: true,
    allowPut: true,
    default: 'normal',
  },
};

export const SECURITY_GROUP_SPECS: Specs = {
  ...std,
  stateful: { validate: v.boolean(), allowPost: true, allowPut: false },
  shared: { validate: v.boolean(), allowPost: false, allowPut: false },
};

/** Neutron's convert_validate_port_value: a port 0-65535 or null, else SecurityGroupInvalidPortValue. */
const sgPort: Validator = (x) => {
  if (x === null) return { ok: true, value: null };
  const n = typeof x === 'string' && /^\d+$/.test(x) ? Number(x) : x;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535) return { ok: true, value: n };
  throw faults.sgInvalidPortValue(typeof x === 'number' || typeof x === 'string' ? x : JSON.stringify(x));
};

export const SECURITY_GROUP_RULE_SPECS: Specs = {
  tenant_id: std.tenant_id,
  project_id: std.project_id,
  description: std.description,
  security_group_id: { validate: v.uuid(), allowPost: true, allowPut: false, required: true },
  direction: { validate: v.oneOf(['ingress', 'egress']), allowPost: true, allowPut: false, required: true },
  ethertype: { validate: v.oneOf(['IPv4', 'IPv6']), allowPost: true, allowPut: false },
  protocol: { validate: v.nullable((x) => (typeof x === 'number' ? v.int(0, 255)(x) : v.string(40)(x))), allowPost: true, allowPut: false },
  port_range_min: { validate: sgPort, allowPost: true, allowPut: false },
  port_range_max: { validate: sgPort, allowPost: true, allowPut: false },
  remote_ip_prefix: { validate: v.nullable(v.string(64)), allowPost: true, allowPut: false },
  // Not format-checked, as in Neutron: an id that names no group is a 404 (SecurityGroupNotFound).
  remote_group_id: { validate: v.nullable(v.string(255)), allowPost: true, allowPut: false },
  remote_address_group_id: { validate: v.nullable(v.uuid()), allowPost: true, allowPut: false },
};

const gatewayInfo = v.dictOrNoData(
  v.dict({
    network_id: { validate: v.uuid(), required: true },
    external_fixed_ips: { validate: v.list(fixedIp) },
    enable_snat: {
      // No ext-gw-mode: a router translates nothing in Calico; outbound NAT is per IP pool.
      validate: () => ({ ok: false, reason: 'enable_snat is not supported: Calico routers translate nothing; outbound NAT is set per IP pool (natOutgoing)' }),
    },
  }),
);

export const ROUTER_SPECS: Specs = {
  ...std,
  admin_state_up: { validate: v.boolean(), allowPost: true, allowPut: true },
  external_gateway_info: { validate: gatewayInfo, allowPost: true, allowPut: true, default: null },
};

export const FLOATING_IP_SPECS: Specs = {
  tenant_id: std.tenant_id,
  project_id: std.project_id,
  description: std.description,
  floating_network_id: { validate: v.uuid(), allowPost: true, allowPut: false, required: true },
  floating_ip_address: { validate: v.ip(), allowPost: true, allowPut: false },
  subnet_id: { validate: v.uuid(), allowPost: true, allowPut: false },
  port_id: { validate: v.nullable(v.uuid()), allowPost: true, allowPut: true },
  fixed_ip_address: { validate: v.nullable(v.ip()), allowPost: true, allowPut: true },
};

/** The body of add_router_interface / remove_router_interface. */
export const ROUTER_INTERFACE_SPECS: Specs = {
  subnet_id: { validate: v.uuid(), allowPost: true, allowPut: true },
  port_id: { validate: v.uuid(), allowPost: true, allowPut: true },
};
