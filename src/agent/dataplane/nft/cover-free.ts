import { kernelCidr } from '../ipsets/kernel-cidr.js';

/**
 * The members of an IP set as an nft interval set can hold them: in printed form, without the
 * ones another member already covers (an interval set refuses overlapping elements, while an
 * ipset `hash:net` holds both; the union of addresses is the same). Unparseable members are
 * left out. Cost: O(members × shorter prefixes), and a set of host addresses only is one pass.
 */
export function coverFree(members: Iterable<string>): Set<string> {
  const parsed = [];
  for (const m of members) {
    const c = kernelCidr(m);
    if (c !== undefined) parsed.push(c);
  }
  const nets = parsed.filter((c) => c.prefixLength < (c.family === 4 ? 32 : 128)).sort((a, b) => a.prefixLength - b.prefixLength);
  const out = new Set<string>();
  for (const c of parsed) {
    const covered = nets.some(
      (n) =>
        n !== c &&
        n.family === c.family &&
        n.prefixLength <= c.prefixLength &&
        n.full !== c.full &&
        kernelCidr(`${c.address}/${n.prefixLength}`)?.address === n.address,
    );
    if (!covered) out.add(c.printed);
  }
  return out;
}

/** True when `member` (printed form) is a host address, which can never overlap another host address. */
export function isHostMember(member: string): boolean {
  return !member.includes('/');
}
