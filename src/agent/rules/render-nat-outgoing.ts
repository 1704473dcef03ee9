/**
 * `cali-nat-outgoing` (nat, from `cali-POSTROUTING`), as Felix's masq manager renders it
 * (reference §4.3): empty unless some IP pool has `natOutgoing`; then traffic from a
 * masquerading pool to anywhere outside every pool leaves with the host's address:
 * `-m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst
 * -j MASQUERADE --random-fully`. Both sets are `hash:net`, one per family.
 */
import type { IpFamily } from '../calc/model.js';
import type { Chain } from '../dataplane/iptables/chain.js';
import { ipSetName } from './chain-names.js';

/** The ids (before the family prefix) of the two pool sets. */
export const POOL_SETS = { all: 'all-ipam-pools', masq: 'masq-ipam-pools' } as const;

export function renderNatOutgoing(family: IpFamily, anyMasquerade: boolean): Chain {
  if (!anyMasquerade) return { name: 'cali-nat-outgoing', rules: [] };
  return {
    name: 'cali-nat-outgoing',
    rules: [
      {
        match: `-m set --match-set ${ipSetName(POOL_SETS.masq, family)} src -m set ! --match-set ${ipSetName(POOL_SETS.all, family)} dst`,
        action: '-j MASQUERADE --random-fully',
      },
    ],
  };
}
