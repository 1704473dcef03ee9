import { nt } from './neutron-types.js';
import { attr, defineResource, readOnly, type CreateInput, type UpdateInput } from './resource.js';
import { owned } from './standard-attributes.js';

const FLOATING_IP_ATTRIBUTES = {
  ...owned,
  floating_network_id: attr(nt.uuid(), { required: true }),
  floating_ip_address: attr(nt.ip()),
  subnet_id: attr(nt.uuid()),
  port_id: attr(nt.uuid().nullable(), { put: true }),
  fixed_ip_address: attr(nt.ip().nullable(), { put: true }),
  status: readOnly(),
  router_id: readOnly(),
};
export const FLOATING_IP = defineResource('floatingip', 'floatingips', FLOATING_IP_ATTRIBUTES);
export type FloatingIpInput = CreateInput<typeof FLOATING_IP>;
export type FloatingIpChanges = UpdateInput<typeof FLOATING_IP>;
