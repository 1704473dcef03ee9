import type { Clock, Exec, Fs } from '../lib/index.js';
import type { LabHostState } from './lab-state.js';
import { connectVeth, createNetns, type Netns } from './netns.js';
import { LabInputError } from './errors.js';
import { VIF } from './vif.js';

/** Hosts on the fabric: .250 is the border router, .254 the fabric's own address. */
const MAX_HOSTS = 249;

/** The `index`th host's record: namespace `<prefix>h<index>`, 198.19.0.<index> and 2001:db8:ffff::<index>. */
export function hostRecord(prefix: string, index: number, name: string, role: LabHostState['role']): LabHostState {
  if (index > MAX_HOSTS) throw new LabInputError(`Too many hosts: the fabric has room for ${MAX_HOSTS}`);
  return { name, netns: `${prefix}h${index}`, index, ip4: `${VIF.fabricPrefix4}.${index}`, ip6: `${VIF.fabricPrefix6}:${index}`, role };
}

/**
 * Makes a compute host's namespace on the fabric: `eth0` on the fabric bridge with the host's
 * addresses, forwarding on, and a default route to the fabric router.
 */
export async function plumbHost(deps: { exec: Exec; fs: Fs; clock: Clock }, fabric: Netns, host: LabHostState): Promise<Netns> {
  const ns = await createNetns(deps, host.netns);
  // Forwarding on (inside this namespace only), and no DAD for addresses made here, so a
  // tap's link-local (the VMs' IPv6 router) answers at once instead of after ~1 s.
  await ns.must('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv6.conf.default.accept_dad=0']);
  await connectVeth({ a: fabric, aName: `h${host.index}`, b: ns, bName: 'eth0' });
  await fabric.ip('link', 'set', `h${host.index}`, 'master', 'br0');
  await ns.ip('addr', 'add', `${host.ip4}/24`, 'dev', 'eth0');
  await ns.ip('-6', 'addr', 'add', `${host.ip6}/64`, 'dev', 'eth0', 'nodad');
  // A default route, as a real compute host has: proxy ARP answers only for addresses the
  // host has a route to, and the VMs' IPv4 gateway is such an address.
  await ns.ip('route', 'add', 'default', 'via', VIF.fabricRouter4);
  await ns.ip('-6', 'route', 'add', 'default', 'via', VIF.fabricRouter6);
  return ns;
}
