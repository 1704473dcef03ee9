import { LabInputError } from './errors.js';
import type { Lab } from './lab-topology.js';
import type { NeutronClient } from './neutron-client.js';

/**
 * The lab's external network: floating IPs come from here. Inside the lab's address space
 * (198.18.0.0/15), apart from the VM network, the outside network and the fabric; the border
 * learns each floating /32 from the VM's host over BGP like any VM route.
 */
export const LAB_EXTERNAL = { name: 'lab-ext', cidr4: '198.18.224.0/24', gateway4: '198.18.224.1', router: 'lab-router' } as const;

/**
 * What a cloud's operator and tenant set up before the first floating IP, as Neutron's clients
 * expect: an external network with a floating pool subnet (no DHCP: nothing boots there), and a
 * router with its gateway on it and an interface on each of the tenant's IPv4 subnets.
 */
export async function setUpExternalNetwork(api: NeutronClient, tenantSubnetIds: readonly string[]): Promise<{ externalNetworkId: string; routerId: string }> {
  const ext = await api.createNetwork({ name: LAB_EXTERNAL.name, 'router:external': true });
  await api.createSubnet({ network_id: ext.id, ip_version: 4, cidr: LAB_EXTERNAL.cidr4, gateway_ip: LAB_EXTERNAL.gateway4, enable_dhcp: false });
  const router = await api.createRouter({ name: LAB_EXTERNAL.router, external_gateway_info: { network_id: ext.id } });
  for (const id of tenantSubnetIds) {
    const subnet = await api.showSubnet(id);
    if (subnet.ip_version === 4 && subnet.gateway_ip !== null) await api.addRouterInterface(router.id, id);
  }
  return { externalNetworkId: ext.id, routerId: router.id };
}

/** Allocates a floating IP on the lab's external network and associates it with the VM's port. */
export async function addFloatingIp(lab: Lab, api: NeutronClient, vmName: string): Promise<{ id: string; address: string }> {
  const vm = lab.vmInfo(vmName);
  const ext = lab.cloud?.externalNetworkId;
  if (ext === undefined) throw new LabInputError(`Lab ${lab.prefix} has no external network (it is made by brindle lab up)`);
  const fip = await api.createFloatingIp({ floating_network_id: ext, port_id: vm.portId });
  const entry = { id: fip.id, address: fip.floating_ip_address };
  await lab.setVmFloatingIps(vmName, [...vm.floatingIps, entry]);
  return entry;
}

/** Releases every floating IP on the VM's port (those the API knows, whoever made them). */
export async function removeFloatingIps(lab: Lab, api: NeutronClient, vmName: string): Promise<string[]> {
  const vm = lab.vmInfo(vmName);
  const fips = await api.listFloatingIps(vm.portId);
  for (const f of fips) await api.deleteFloatingIp(f.id);
  await lab.setVmFloatingIps(vmName, []);
  return fips.map((f) => f.floating_ip_address);
}
