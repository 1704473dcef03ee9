import type { PortRecord } from '../records.js';
import type { NeutronDeps } from './neutron-deps.js';

/** Ports the L3 objects own: deleted through their router or floating IP, never directly. */
export const SERVICE_PORT_OWNERS = ['network:floatingip', 'network:router_gateway', 'network:router_interface'] as const;

export function isRouterInterface(deviceOwner: string): boolean {
  return deviceOwner.startsWith('network:router_interface');
}

/**
 * Whether a service port's router or floating IP still exists: then only it may delete the
 * port. A port whose owner is gone (a failure between the two writes) can be deleted directly.
 */
export async function serviceOwnerExists(d: NeutronDeps, p: PortRecord): Promise<boolean> {
  const owner = SERVICE_PORT_OWNERS.find((x) => p.device_owner.startsWith(x));
  if (owner === undefined) return false;
  const kind = owner === 'network:floatingip' ? 'floatingips' : 'routers';
  return (await d.store.get(kind, p.device_id)) !== undefined;
}
