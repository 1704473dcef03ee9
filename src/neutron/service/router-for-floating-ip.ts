import type { NeutronDeps } from './neutron-deps.js';
import { isRouterInterface } from './service-ports.js';

/**
 * The router through which a subnet reaches an external network: one whose gateway is on that
 * network and which has an interface on the subnet (Neutron's `_get_router_for_floatingip`;
 * lowest id when several do). Calico forwards nothing through it, but Neutron's clients build
 * exactly this before they ask for a floating IP, and Neutron refuses one without it.
 */
export async function routerForFloatingIp(d: NeutronDeps, externalNetworkId: string, subnetId: string): Promise<string | undefined> {
  const routers = (await d.store.list('routers')).items.filter((r) => r.external_gateway_info?.network_id === externalNetworkId);
  if (routers.length === 0) return undefined;
  const ids = new Set(routers.map((r) => r.id));
  const ports = (await d.store.list('ports')).items;
  const reaching = ports
    .filter((p) => isRouterInterface(p.device_owner) && ids.has(p.device_id) && p.fixed_ips.some((f) => f.subnet_id === subnetId))
    .map((p) => p.device_id)
    .sort();
  return reaching[0];
}
