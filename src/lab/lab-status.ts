import type { Lab } from './lab-topology.js';

/** What `brindle lab status -o json` prints: the running lab, for scripts. */
export interface LabStatus {
  readonly prefix: string;
  readonly api: string | null;
  readonly datastore: string | null;
  readonly hosts: readonly { hostname: string; role: string; netns: string; address: string; address6: string; birdSocket: string | null }[];
  readonly vms: readonly { name: string; netns: string; host: string; port: string; addresses: readonly string[] }[];
  readonly border?: { netns: string; address: string; address6: string; asNumber: number; birdSocket: string; outside: { netns: string; address: string; address6: string } };
}

/** The lab's status, from its state file (works from any process). */
export function labStatus(lab: Lab): LabStatus {
  const b = lab.borderInfo;
  return {
    prefix: lab.prefix,
    api: lab.cloud?.api ?? null,
    datastore: lab.cloud?.datastore ?? null,
    hosts: lab.hosts().map((h) => ({ hostname: h.name, role: h.role, netns: h.netns, address: h.ip4, address6: h.ip6, birdSocket: h.birdSocket ?? null })),
    vms: lab.vms().map((v) => ({ name: v.name, netns: v.netns, host: v.host, port: v.portId, addresses: v.ips.map((i) => i.ip) })),
    ...(b === undefined
      ? {}
      : { border: { netns: b.netns, address: b.ip4, address6: b.ip6, asNumber: b.asNumber, birdSocket: b.birdSocket, outside: { netns: b.outside.netns, address: b.outside.ip4, address6: b.outside.ip6 } } }),
  };
}

/** The same, as lines for people. */
export function formatLabStatus(s: LabStatus): string {
  const lines = [`lab ${s.prefix}: API ${s.api ?? '(not running)'}, datastore ${s.datastore ?? '-'}`, '', 'HOSTS'];
  for (const h of s.hosts) lines.push(`  ${h.hostname.padEnd(12)} ${h.role.padEnd(9)} ${h.netns.padEnd(10)} ${h.address.padEnd(15)} ${h.address6.padEnd(20)} ${h.birdSocket ?? 'no BGP'}`);
  lines.push('', 'VMS');
  if (s.vms.length === 0) lines.push('  (none: brindle lab vm add --host HOST)');
  for (const v of s.vms) lines.push(`  ${v.name.padEnd(12)} on ${v.host.padEnd(12)} ${v.netns.padEnd(10)} ${v.addresses.join(' ')}`);
  if (s.border !== undefined) {
    lines.push('', 'BORDER');
    lines.push(`  ${s.border.netns} ${s.border.address} ${s.border.address6} AS ${s.border.asNumber}; outside host ${s.border.outside.address} ${s.border.outside.address6} (${s.border.outside.netns})`);
  }
  return `${lines.join('\n')}\n`;
}
