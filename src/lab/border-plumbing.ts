import type { Clock, Exec, Fs } from '../lib/index.js';
import type { LabBorderState } from './lab-state.js';
import { connectVeth, createNetns, type Netns } from './netns.js';
import { VIF } from './vif.js';

/** The border router's place: on the fabric at .250, with the outside network behind it. */
export const BORDER = {
  index: 250,
  outsideCidr4: '198.18.200.0/24',
  outsideCidr6: '2001:db8:200::/64',
  router4: '198.18.200.1',
  router6: '2001:db8:200::1',
  outsideHost4: '198.18.200.10',
  outsideHost6: '2001:db8:200::10',
} as const;

/** The border's record: `<prefix>bd` at .250 on the fabric, `<prefix>out` behind it. */
export function borderRecord(prefix: string, o: { asNumber: number; birdSocket: string }): LabBorderState {
  return {
    netns: `${prefix}bd`,
    ip4: `${VIF.fabricPrefix4}.${BORDER.index}`,
    ip6: `${VIF.fabricPrefix6}:${BORDER.index.toString(16)}`,
    asNumber: o.asNumber,
    birdSocket: o.birdSocket,
    outside: { netns: `${prefix}out`, ip4: BORDER.outsideHost4, ip6: BORDER.outsideHost6, cidr4: BORDER.outsideCidr4, cidr6: BORDER.outsideCidr6 },
  };
}

/**
 * Makes the border router's namespaces: `<prefix>bd` on the fabric (forwarding), the outside
 * network behind it and the outside host, which routes everything through the border. No route
 * between the data center and the outside is added: that is the border's BGP's business.
 */
export async function plumbBorder(deps: { exec: Exec; fs: Fs; clock: Clock }, fabric: Netns, border: LabBorderState): Promise<void> {
  const bd = await createNetns(deps, border.netns);
  await bd.must('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv6.conf.default.accept_dad=0']);
  await connectVeth({ a: fabric, aName: 'bd', b: bd, bName: 'eth0' });
  await fabric.ip('link', 'set', 'bd', 'master', 'br0');
  await bd.ip('addr', 'add', `${border.ip4}/24`, 'dev', 'eth0');
  await bd.ip('-6', 'addr', 'add', `${border.ip6}/64`, 'dev', 'eth0', 'nodad');
  const out = await createNetns(deps, border.outside.netns);
  await connectVeth({ a: bd, aName: 'out0', b: out, bName: 'eth0' });
  await bd.ip('addr', 'add', `${BORDER.router4}/24`, 'dev', 'out0');
  await bd.ip('-6', 'addr', 'add', `${BORDER.router6}/64`, 'dev', 'out0', 'nodad');
  await out.ip('addr', 'add', `${border.outside.ip4}/24`, 'dev', 'eth0');
  await out.ip('-6', 'addr', 'add', `${border.outside.ip6}/64`, 'dev', 'eth0', 'nodad');
  await out.ip('route', 'add', 'default', 'via', BORDER.router4);
  await out.ip('-6', 'route', 'add', 'default', 'via', BORDER.router6);
}
