import type { DhcpSubnet } from '../../model/index.js';
import type { SubnetRecord } from '../records.js';

/** networking-calico's DHCP subnet record (§1.8); undefined when DHCP is off (the key is deleted). */
export function subnetToDhcp(subnet: SubnetRecord): DhcpSubnet | undefined {
  if (!subnet.enable_dhcp) return undefined;
  return {
    network_id: subnet.network_id,
    cidr: subnet.cidr,
    host_routes: subnet.host_routes.map((r) => ({ destination: r.destination, nexthop: r.nexthop })),
    gateway_ip: subnet.gateway_ip,
    ...(subnet.dns_nameservers.length > 0 ? { dns_servers: [...subnet.dns_nameservers] } : {}),
    ...(subnet.ipv6_ra_mode !== null && subnet.ipv6_address_mode !== null
      ? { ipv6_ra_mode: subnet.ipv6_ra_mode, ipv6_address_mode: subnet.ipv6_address_mode }
      : {}),
  };
}
