import type { Lab } from '../lab-topology.js';

/** What `brindle node` does for a local VM, done by hand for plumbing tests: routes to its tap and proxy ARP. */
export async function programByHand(lab: Lab, vmName: string): Promise<void> {
  const vm = lab.vmInfo(vmName);
  const host = lab.host(vm.host);
  for (const a of vm.ips) {
    if (a.ip.includes(':')) await host.ip('-6', 'route', 'replace', `${a.ip}/128`, 'dev', vm.tap);
    else await host.ip('route', 'replace', `${a.ip}/32`, 'dev', vm.tap);
  }
  await host.must('sysctl', ['-qw', `net.ipv4.conf.${vm.tap}.proxy_arp=1`, `net.ipv4.neigh.${vm.tap}.proxy_delay=0`]);
}
