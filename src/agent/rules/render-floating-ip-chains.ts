/**
 * Renders the nat chains for Neutron floating IPs (reference §4.1), IPv4 only:
 * `cali-fip-dnat`: `--destination <ext>/32 -j DNAT --to-destination <int>` per external IP
 * (jumped from nat PREROUTING and OUTPUT); `cali-fip-snat`: the hairpin case only, a VM reaching
 * its own floating IP: `--source <int>/32 --destination <int>/32 -j SNAT --to-source <ext>`.
 * When one external IP maps to several internal ones the lowest internal wins, and vice versa;
 * rules are sorted by the matched address. In the v6 tables both chains exist but are empty.
 */
import type { IpFamily, LocalEndpoint } from '../calc/model.js';
import type { Chain } from '../dataplane/iptables/chain.js';
import { ipt } from './ipt.js';

/** Keeps, per key, the lowest value (string order), and returns the entries sorted by key. */
function lowestPerKey(pairs: readonly (readonly [string, string])[]): [string, string][] {
  const best = new Map<string, string>();
  for (const [key, value] of pairs) {
    const old = best.get(key);
    if (old === undefined || value < old) best.set(key, value);
  }
  return [...best].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** [`cali-fip-dnat`, `cali-fip-snat`] for the floating IPs of `endpoints`. */
export function renderFloatingIpChains(endpoints: Iterable<LocalEndpoint>, family: IpFamily): [Chain, Chain] {
  if (family === 6)
    return [
      { name: 'cali-fip-dnat', rules: [] },
      { name: 'cali-fip-snat', rules: [] },
    ];
  const nats = [...endpoints].flatMap((ep) => ep.ipv4Nat.map((n) => ({ internal: ipt.bareAddress(n.internal), external: ipt.bareAddress(n.external) })));
  const dnat = lowestPerKey(nats.map((n) => [n.external, n.internal] as const));
  const snat = lowestPerKey(nats.map((n) => [n.internal, n.external] as const));
  return [
    {
      name: 'cali-fip-dnat',
      rules: dnat.map(([ext, int]) => ({ match: `--destination ${ipt.hostCidr(ext)}`, action: `-j DNAT --to-destination ${int}` })),
    },
    {
      name: 'cali-fip-snat',
      rules: snat.map(([int, ext]) => ({
        match: `--source ${ipt.hostCidr(int)} --destination ${ipt.hostCidr(int)}`,
        action: `-j SNAT --to-source ${ext}`,
      })),
    },
  ];
}
