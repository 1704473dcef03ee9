/**
 * Renders the workload dispatch chains (reference §1.8): `cali-from-wl-dispatch` sends a packet
 * arriving on a tap (`-i`) to that endpoint's `cali-fw-` chain, `cali-to-wl-dispatch` a packet
 * leaving on a tap (`-o`) to its `cali-tw-` chain. Names are sorted and binned on the character
 * after their longest common prefix: a bin of one gets a direct goto in the root chain, a
 * bigger bin a wildcard goto to a child chain `<root>-<char>` listing its members. The root and
 * every child end in DROP ("Unknown interface"): a tap we were not told about gets nothing.
 */
import type { DataplaneConfig } from '../config.js';
import type { Chain, IptRule } from '../dataplane/iptables/chain.js';
import { endpointChainNames } from './chain-names.js';

const UNKNOWN: IptRule = { match: '', action: '-j DROP', comment: ['Unknown interface'] };

function commonPrefix(sorted: readonly string[]): string {
  const first = sorted[0] ?? '';
  const last = sorted[sorted.length - 1] ?? '';
  let n = 0;
  while (n < first.length && n < last.length && first[n] === last[n]) n++;
  return first.slice(0, n);
}

interface Side {
  readonly root: string;
  readonly flag: '-i' | '-o';
  readonly target: (iface: string) => string;
}

function dispatchChains(bins: ReadonlyMap<string, readonly string[]>, side: Side): Chain[] {
  const rootRules: IptRule[] = [];
  const children: Chain[] = [];
  for (const [key, members] of bins) {
    const only = members.length === 1 ? members[0] : undefined;
    if (only !== undefined) {
      rootRules.push({ match: `${side.flag} ${only}`, action: `-g ${side.target(only)}` });
      continue;
    }
    const child = `${side.root}-${key.slice(-1)}`;
    rootRules.push({ match: `${side.flag} ${key}+`, action: `-g ${child}` });
    children.push({
      name: child,
      rules: [...members.map((m) => ({ match: `${side.flag} ${m}`, action: `-g ${side.target(m)}` })), UNKNOWN],
    });
  }
  return [...children, { name: side.root, rules: [...rootRules, UNKNOWN] }];
}

/**
 * The from- and to-workload dispatch chains for the interfaces `ifaces` (duplicates ignored):
 * from-children, `cali-from-wl-dispatch`, to-children, `cali-to-wl-dispatch`.
 */
export function renderDispatchChains(ifaces: readonly string[], _config: DataplaneConfig): Chain[] {
  const sorted = [...new Set(ifaces)].sort();
  if (sorted.includes('')) throw new Error('Empty interface name in dispatch');
  const common = commonPrefix(sorted);
  // Bin key: the common prefix plus the next character (a name equal to the prefix is its own bin).
  const bins = new Map<string, string[]>();
  for (const name of sorted) {
    const key = name.slice(0, common.length + 1);
    const bin = bins.get(key);
    if (bin === undefined) bins.set(key, [name]);
    else bin.push(name);
  }
  return [
    ...dispatchChains(bins, { root: 'cali-from-wl-dispatch', flag: '-i', target: (i) => endpointChainNames(i).from }),
    ...dispatchChains(bins, { root: 'cali-to-wl-dispatch', flag: '-o', target: (i) => endpointChainNames(i).to }),
  ];
}
