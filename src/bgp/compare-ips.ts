import ipaddr from 'ipaddr.js';

/**
 * Orders two addresses numerically (IPv4 before IPv6, then by value). A string comparison would
 * put 10.0.0.10 before 10.0.0.9, and both ends of a mesh session must agree on who is higher.
 */
export function compareIps(a: string, b: string): number {
  const ba = ipaddr.parse(a).toByteArray();
  const bb = ipaddr.parse(b).toByteArray();
  if (ba.length !== bb.length) return ba.length - bb.length;
  for (let i = 0; i < ba.length; i++) {
    const d = (ba[i] ?? 0) - (bb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
