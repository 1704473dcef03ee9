import type { Lab } from './lab-topology.js';

/** What `brindle lab status -o json` prints: the running lab, for scripts. */
export interface LabStatus {
  readonly prefix: string;
  readonly api: string | null;
  readonly datastore: string | null;
  readonly hosts: readonly { hostname: string; role: string; netns: string; address: string; address6: string; birdSocket: string | null }[];
  readonly vms: readonly { name: string; netns: string; host: string; port: string; addresses: readonly string[]; floatingIps: readonly string[] }[];
  readonly border?: {
    netns: string;
    address: string;
    address6: string;
    asNumber: number;
    birdSocket: string;
    outside: { netns: string; address: string; address6: string };
  };
}

/** The lab's status, from its state file (works from any process). */
export function labStatus(lab: Lab): LabStatus {
  const b = lab.borderInfo;
  return {
    prefix: lab.prefix,
    api: lab.cloud?.api ?? null,
    datastore: lab.cloud?.datastore ?? null,
    hosts: lab.hosts().map((h) => ({ hostname: h.name, role: h.role, netns: h.netns, address: h.ip4, address6: h.ip6, birdSocket: h.birdSocket ?? null })),
    vms: lab.vms().map((v) => ({
      name: v.name,
      netns: v.netns,
      host: v.host,
      port: v.portId,
      addresses: v.ips.map((i) => i.ip),
      floatingIps: v.floatingIps.map((f) => f.address),
    })),
    ...(b === undefined
      ? {}
      : {
          border: {
            netns: b.netns,
            address: b.ip4,
            address6: b.ip6,
            asNumber: b.asNumber,
            birdSocket: b.birdSocket,
            outside: { netns: b.outside.netns, address: b.outside.ip4, address6: b.outside.ip6 },
          },
        }),
  };
}

/** A VM's floating IPs after its addresses: `  ⇄ floating 198.18.224.7`. */
function floating(ips: readonly string[]): string {
  return ips.length === 0 ? '' : `  ⇄ floating ${ips.join(' ')}`;
}

/** The same, as lines for people: a picture, then the details. */
export function formatLabStatus(s: LabStatus): string {
  const lines = [`lab ${s.prefix}: API ${s.api ?? '(not running)'}, datastore ${s.datastore ?? '-'}`, '', formatLabPicture(s), 'HOSTS'];
  for (const h of s.hosts)
    lines.push(
      `  ${h.hostname.padEnd(12)} ${h.role.padEnd(9)} ${h.netns.padEnd(10)} ${h.address.padEnd(15)} ${h.address6.padEnd(20)} ${h.birdSocket ?? 'no BGP'}`,
    );
  lines.push('', 'VMS');
  if (s.vms.length === 0) lines.push('  (none: brindle lab vm add --host HOST)');
  for (const v of s.vms) lines.push(`  ${v.name.padEnd(12)} on ${v.host.padEnd(12)} ${v.netns.padEnd(10)} ${v.addresses.join(' ')}${floating(v.floatingIps)}`);
  if (s.border !== undefined) {
    lines.push('', 'BORDER');
    lines.push(
      `  ${s.border.netns} ${s.border.address} ${s.border.address6} AS ${s.border.asNumber}; outside host ${s.border.outside.address} ${s.border.outside.address6} (${s.border.outside.netns})`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The lab as a picture: the outside and the border on top, the fabric, each host (and
 * reflector) with its VMs under it. For `brindle lab status` and the demo.
 */
export function formatLabPicture(s: LabStatus): string {
  const lines: string[] = [];
  if (s.border !== undefined) {
    lines.push(`outside ${s.border.outside.address}  ${s.border.outside.address6}`);
    lines.push('   │');
    lines.push(`border ${s.border.address}  AS ${s.border.asNumber}  (eBGP with every host)`);
    lines.push('   │');
  }
  lines.push('═══╧═══ fabric 198.19.0.0/24, 2001:db8:ffff::/64 ═══'.replace('╧', s.border === undefined ? '╤' : '╧'));
  s.hosts.forEach((h, i) => {
    const lastHost = i === s.hosts.length - 1;
    const role = h.role === 'reflector' ? '  route reflector' : '';
    lines.push(`   ${lastHost ? '└──' : '├──'} ${h.hostname}  ${h.address}${role}${h.birdSocket === null ? '  (no BGP)' : ''}`);
    const vms = s.vms.filter((v) => v.host === h.hostname);
    vms.forEach((v, j) =>
      lines.push(`   ${lastHost ? ' ' : '│'}     ${j === vms.length - 1 ? '└──' : '├──'} ${v.name}  ${v.addresses.join('  ')}${floating(v.floatingIps)}`),
    );
  });
  return `${lines.join('\n')}\n`;
}
