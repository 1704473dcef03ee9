import { nt } from './neutron-types.js';
import { attr, defineResource, readOnly, type CreateInput, type UpdateInput } from './resource.js';
import { named } from './standard-attributes.js';

/** A network (Neutron's core attribute map with external-net, provider, net-mtu and port-security). */
const NETWORK_ATTRIBUTES = {
  ...named,
  admin_state_up: attr(nt.boolean(), { put: true, default: true }),
  shared: attr(nt.boolean(), { put: true, default: false }),
  mtu: attr(nt.int(68, 9216), { put: true }),
  port_security_enabled: attr(nt.boolean(), { put: true, default: true }),
  'router:external': attr(nt.boolean(), { put: true, default: false }),
  'provider:network_type': attr(nt.string(255)),
  'provider:physical_network': attr(nt.string(64).nullable()),
  'provider:segmentation_id': attr(nt.int(0, 16777215).nullable()),
  availability_zone_hints: attr(nt.list(nt.string(255))),
  status: readOnly(),
  subnets: readOnly(),
  availability_zones: readOnly(),
};
export const NETWORK = defineResource('network', 'networks', NETWORK_ATTRIBUTES);
export type NetworkInput = CreateInput<typeof NETWORK>;
export type NetworkChanges = UpdateInput<typeof NETWORK>;
