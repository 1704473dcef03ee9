import { z } from 'zod';
import { nt } from './neutron-types.js';
import { attr, defineResource, readOnly, type CreateInput, type UpdateInput } from './resource.js';
import { named } from './standard-attributes.js';

const fixedIp = nt.dict({ subnet_id: nt.uuid(), ip_address: nt.ip() });
/** No ext-gw-mode: a router translates nothing in Calico; outbound NAT is per IP pool. */
const noSnat = z.custom<never>(() => false, {
  error: 'enable_snat is not supported: Calico routers translate nothing; outbound NAT is set per IP pool (natOutgoing)',
});
const gatewayInfo = nt.dictOrNoData(nt.dict({ network_id: nt.uuid(), external_fixed_ips: nt.list(fixedIp), enable_snat: noSnat }, ['network_id']));

const ROUTER_ATTRIBUTES = {
  ...named,
  admin_state_up: attr(nt.boolean(), { put: true, default: true }),
  external_gateway_info: attr(gatewayInfo, { put: true, default: null }),
  status: readOnly(),
  routes: readOnly(),
};
export const ROUTER = defineResource('router', 'routers', ROUTER_ATTRIBUTES);
export type RouterInput = CreateInput<typeof ROUTER>;
export type RouterChanges = UpdateInput<typeof ROUTER>;

/** The body of add_router_interface / remove_router_interface (unwrapped: `{"subnet_id": ...}`). */
const ROUTER_INTERFACE_ATTRIBUTES = {
  subnet_id: attr(nt.uuid(), { put: true }),
  port_id: attr(nt.uuid(), { put: true }),
};
export const ROUTER_INTERFACE = defineResource('interface', 'interfaces', ROUTER_INTERFACE_ATTRIBUTES);
export type RouterInterfaceInput = UpdateInput<typeof ROUTER_INTERFACE>;
