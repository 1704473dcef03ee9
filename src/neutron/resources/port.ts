import { z } from 'zod';
import { nt } from './neutron-types.js';
import { attr, defineResource, readOnly, type CreateInput, type UpdateInput } from './resource.js';
import { named } from './standard-attributes.js';

const fixedIp = nt.dict({ subnet_id: nt.uuid(), ip_address: nt.ip() });
/** An allowed address pair's address: an IP or a CIDR. */
const pairAddress = z.union([nt.ip(), nt.cidr()], { error: (iss) => `${JSON.stringify(iss.input)} is not a valid IP address` });
const addressPair = nt.dict({ ip_address: pairAddress, mac_address: nt.mac() }, ['ip_address']);
const dhcpOpt = nt.dict({ opt_name: nt.string(255), opt_value: nt.string(255), ip_version: nt.int(4, 6) }, ['opt_name', 'opt_value']);
const VNIC_TYPES = ['normal', 'direct', 'macvtap', 'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic', 'vdpa', 'remote-managed'] as const;

/** A port (core attributes with binding, port-security, allowed-address-pairs and extra_dhcp_opt). */
const PORT_ATTRIBUTES = {
  ...named,
  network_id: attr(nt.uuid(), { required: true }),
  admin_state_up: attr(nt.boolean(), { put: true, default: true }),
  mac_address: attr(nt.mac(), { put: true }),
  fixed_ips: attr(nt.list(fixedIp), { put: true }),
  device_id: attr(nt.string(255), { put: true, default: '' }),
  device_owner: attr(nt.string(255), { put: true, default: '' }),
  security_groups: attr(nt.list(nt.uuid()), { put: true }),
  // No default: a port without it takes its network's.
  port_security_enabled: attr(nt.boolean(), { put: true }),
  allowed_address_pairs: attr(nt.list(addressPair, 10), { put: true }),
  extra_dhcp_opts: attr(nt.list(dhcpOpt), { put: true }),
  'binding:host_id': attr(nt.string(255).nullable(), { put: true }),
  'binding:profile': attr(nt.anyDict().nullable(), { put: true }),
  'binding:vnic_type': attr(nt.oneOf(VNIC_TYPES), { put: true, default: 'normal' }),
  'binding:vif_type': readOnly(),
  'binding:vif_details': readOnly(),
  status: readOnly(),
};
export const PORT = defineResource('port', 'ports', PORT_ATTRIBUTES);
export type PortInput = CreateInput<typeof PORT>;
export type PortChanges = UpdateInput<typeof PORT>;
