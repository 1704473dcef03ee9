import ipaddr from 'ipaddr.js';
import { parseIp } from '../model/index.js';

/**
 * How Nova plugs a Calico VIF (`binding:vif_type` `tap`), and the lab's address plan.
 *
 * Nova's libvirt driver names the host side `tap` + the first 11 characters of the port id and
 * gives it the MAC from `binding:vif_details.mac_address`, which networking-calico sets to
 * `00:61:fe:ed:ca:fe` for every port; the tap carries no address (only its IPv6 link-local).
 */
export const VIF = {
  /** The host-side MAC of every tap (networking-calico's `vif_details.mac_address`). */
  tapMac: '00:61:fe:ed:ca:fe',
  /**
   * The tap's IPv6 link-local address (EUI-64 of `tapMac`): Calico's DHCP agent sends router
   * advertisements from the tap with the subnet prefix off-link, so a VM's IPv6 default router
   * is this address and every IPv6 destination goes through the host.
   */
  tapLinkLocal: 'fe80::261:feff:feed:cafe',
  /** The fabric: hosts are 198.19.0.<n>/24 and 2001:db8:ffff::<n>/64, the fabric router .254/::fe. */
  fabricPrefix4: '198.19.0',
  fabricPrefix6: '2001:db8:ffff:',
  fabricRouter4: '198.19.0.254',
  fabricRouter6: '2001:db8:ffff::fe',
} as const;

/** The tap Nova makes for a port: `tap` + the first 11 characters of its id (14 in all). */
export function tapName(portId: string): string {
  return `tap${portId}`.slice(0, 14);
}

const LAB_RANGES = [ipaddr.parseCIDR('198.18.0.0/15'), ipaddr.parseCIDR('2001:db8::/32')];

/** True if `ip` is a plain address inside the lab's ranges (198.18.0.0/15, 2001:db8::/32). */
export function isLabAddress(ip: string): boolean {
  const parsed = parseIp(ip);
  if (parsed === undefined) return false;
  const addr = ipaddr.parse(parsed.address);
  return LAB_RANGES.some(([net, len]) => net.kind() === addr.kind() && addr.match(net, len));
}
