/**
 * Renders the workload dispatch chains (reference §1.8): `cali-from-wl-dispatch` sends a packet
 * arriving on a tap (`-i`) to that endpoint's `cali-fw-` chain, `cali-to-wl-dispatch` a packet
 * leaving on a tap (`-o`) to its `cali-tw-` chain. Names are sorted and binned on the character
 * after their longest common prefix: a bin of one gets a direct goto in the root chain, a
 * bigger bin a wildcard goto to a child chain `<root>-<char>` listing its members. Unlike Felix,
 * a child with more than 16 members is binned again (`<root>-<char><char>`, …), so a packet
 * walks a few dozen rules, not hundreds. The root and every child end in DROP ("Unknown
 * interface"): a tap we were not told about gets nothing.
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

/**
 * A bin bigger than this is split again on its next character (Felix stops after one level, so
 * with thousands of taps a packet walks hundreds of rules; a deeper tree keeps it to a few dozen).
 */
const LEAF = 16;
/** `cali-from-wl-dispatch-` leaves six characters of the 28 a chain name may have. */
const MAX_SUFFIX = 6;

/** Groups sorted names by the character after their common prefix (a name equal to it is its own bin). */
function binByNextChar(sorted: readonly string[]): Map<string, string[]> {
  const common = commonPrefix(sorted);
  const bins = new Map<string, string[]>();
  for (const name of sorted) {
    const key = name.slice(0, common.length + 1);
    const bin = bins.get(key);
    if (bin === undefined) bins.set(key, [name]);
    else bin.push(name);
  }
  return bins;
}

/**
 * One dispatch chain for `members` (sorted): a direct goto per member if they are few (or the
 * chain name has no room left), else a wildcard goto per bin to a child chain; ends in DROP.
 */
function dispatchTree(node: { name: string; suffix: string; members: readonly string[] }, side: Side, out: Chain[]): void {
  const { name, suffix, members } = node;
  const direct = (m: string): IptRule => ({ match: `${side.flag} ${m}`, action: `-g ${side.target(m)}` });
  const rules: IptRule[] = [];
  const isRoot = suffix === '';
  if (!isRoot && (members.length <= LEAF || suffix.length >= MAX_SUFFIX)) {
    out.push({ name, rules: [...members.map(direct), UNKNOWN] });
    return;
  }
  for (const [key, bin] of binByNextChar(members)) {
    const only = bin.length === 1 ? bin[0] : undefined;
    if (only !== undefined) {
      rules.push(direct(only));
      continue;
    }
    const childSuffix = suffix + key.slice(-1);
    const child = `${side.root}-${childSuffix}`;
    rules.push({ match: `${side.flag} ${key}+`, action: `-g ${child}` });
    dispatchTree({ name: child, suffix: childSuffix, members: bin }, side, out);
  }
  out.push({ name, rules: [...rules, UNKNOWN] });
}

/**
 * The from- and to-workload dispatch chains for the interfaces `ifaces` (duplicates ignored):
 * the from-tree (children first, then `cali-from-wl-dispatch`), then the to-tree.
 */
export function renderDispatchChains(ifaces: readonly string[], _config: DataplaneConfig): Chain[] {
  const sorted = [...new Set(ifaces)].sort();
  if (sorted.includes('')) throw new Error('Empty interface name in dispatch');
  const out: Chain[] = [];
  dispatchTree(
    { name: 'cali-from-wl-dispatch', suffix: '', members: sorted },
    { root: 'cali-from-wl-dispatch', flag: '-i', target: (i) => endpointChainNames(i).from },
    out,
  );
  dispatchTree(
    { name: 'cali-to-wl-dispatch', suffix: '', members: sorted },
    { root: 'cali-to-wl-dispatch', flag: '-o', target: (i) => endpointChainNames(i).to },
    out,
  );
  return out;
}
