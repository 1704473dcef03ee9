import type { Clock, Exec, Fs } from '../lib/index.js';
import { parseIp } from '../model/index.js';
import { startDhcpClient } from './dhcp-client.js';
import type { LabVmState } from './lab-state.js';
import { connectVeth, Netns } from './netns.js';
import { tapName, VIF } from './vif.js';
import type { AddVmSpec } from './vm-spec.js';

/** The `index`th VM's record (namespace `<prefix>v<index>`), not plugged yet. */
export function vmRecord(prefix: string, index: number, spec: AddVmSpec): LabVmState {
  return {
    name: spec.name,
    host: spec.host,
    netns: `${prefix}v${index}`,
    portId: spec.portId,
    tap: tapName(spec.portId),
    mac: spec.mac.toLowerCase(),
    ips: spec.ips.map((i) => ({ ip: i.ip, prefixLen: i.prefixLen, gateway: i.gateway })),
    plugged: false,
    dhcp: spec.dhcp === true,
    floatingIps: [],
    ...(spec.mtu === undefined ? {} : { mtu: spec.mtu }),
  };
}

/**
 * Plugs a VM's namespace into its host as Nova plugs a Calico port: a veth whose host end is the
 * port's tap (MAC `VIF.tapMac`, up, no address) and whose VM end is `eth0` with the port's MAC.
 */
export async function connectVmTap(deps: { exec: Exec }, host: Netns, vm: LabVmState): Promise<void> {
  const ns = new Netns(vm.netns, deps.exec);
  // A DHCP VM takes SLAAC addresses usable at once (no DAD wait, as the static path's
  // `nodad`); a static one ignores the host's router advertisements (its addresses are set).
  await ns.must('sysctl', ['-qw', vm.dhcp ? 'net.ipv6.conf.default.accept_dad=0' : 'net.ipv6.conf.default.accept_ra=0']);
  await connectVeth({ a: host, aName: vm.tap, b: ns, bName: 'eth0' }, { aMac: VIF.tapMac, bMac: vm.mac, ...(vm.mtu === undefined ? {} : { aMtu: vm.mtu }) });
}

/**
 * A plugged VM's addresses: a DHCP VM runs its DHCP client (leases recorded in `leaseDir`) and
 * takes SLAAC addresses; a static one gets them by hand: IPv4 with the first gateway as an
 * on-link default route, IPv6 without DAD or prefix route, default via the tap's link-local
 * address (what Calico's router advertisements, prefix off-link, give a VM).
 */
export async function configureVm(
  deps: { exec: Exec; fs: Fs; clock: Clock },
  vm: LabVmState,
  o: { leaseDir: string; dhcpTimeoutMs?: number | undefined },
): Promise<void> {
  const ns = new Netns(vm.netns, deps.exec);
  if (vm.dhcp) {
    await startDhcpClient(deps, { netns: vm.netns, leaseDir: o.leaseDir, ...(o.dhcpTimeoutMs === undefined ? {} : { timeoutMs: o.dhcpTimeoutMs }) });
    return;
  }
  let v4Route = false;
  let v6Route = false;
  for (const a of vm.ips) {
    if (parseIp(a.ip)?.family === 4) {
      await ns.ip('addr', 'add', `${a.ip}/${a.prefixLen}`, 'dev', 'eth0');
      if (!v4Route && a.gateway !== null) {
        await ns.ip('route', 'add', 'default', 'via', a.gateway, 'dev', 'eth0', 'onlink');
        v4Route = true;
      }
    } else {
      await ns.ip('-6', 'addr', 'add', `${a.ip}/${a.prefixLen}`, 'dev', 'eth0', 'nodad', 'noprefixroute');
      if (!v6Route) {
        await ns.ip('-6', 'route', 'replace', 'default', 'via', VIF.tapLinkLocal, 'dev', 'eth0');
        v6Route = true;
      }
    }
  }
}
