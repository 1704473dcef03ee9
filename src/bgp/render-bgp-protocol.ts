import { BGP_PORT } from './resolve-bird-settings.js';
import type { PlannedSession } from './planned-session.js';
import { protocolName } from './protocol-name.js';

/** A BIRD string literal. */
export function birdString(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ')}"`;
}

const port = (p: number): string => (p === BGP_PORT ? '' : ` port ${p}`);

/** The `protocol bgp` block of one session (indented two spaces, no trailing blank line). */
export function renderBgpProtocol(s: PlannedSession): string[] {
  const channel = s.family === 4 ? 'ipv4' : 'ipv6';
  const lines = [
    `protocol bgp ${protocolName(s)} from brindle_bgp {`,
    `  description ${birdString(s.description)};`,
    `  local${s.localIp === undefined ? '' : ` ${s.localIp}`}${port(s.localPort)} as ${s.localAs};`,
    `  neighbor ${s.peerIp}${port(s.peerPort)} as ${s.peerAs};`,
  ];
  if (s.ttlSecurity === undefined) lines.push('  multihop;');
  else lines.push('  ttl security on;', `  multihop ${s.ttlSecurity};`);
  if (s.passive) lines.push('  passive on;');
  if (s.rrClient !== undefined) {
    lines.push('  rr client;');
    if (s.rrClient.clusterId !== undefined) lines.push(`  rr cluster id ${s.rrClient.clusterId};`);
  }
  if (s.allowLocalAs !== undefined) lines.push(`  allow local as ${s.allowLocalAs};`);
  if (s.restartTime !== undefined) lines.push(`  graceful restart time ${s.restartTime};`);
  lines.push(`  ${channel} {`, '    import all;', `    export filter ${s.exportFilter};`);
  if (s.nextHop !== 'default') lines.push(`    next hop ${s.nextHop};`);
  lines.push('    gateway recursive;', '  };', '}');
  return lines;
}
