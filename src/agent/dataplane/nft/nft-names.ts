/**
 * Names in Brindle's own nftables table. One table per IP family (`ip brindle`, `ip6 brindle`)
 * holds what the iptables dataplane spreads over four tables, so chains of the raw, mangle and
 * nat tables carry their table as a prefix (`raw.cali-PREROUTING`); filter chains keep Felix's
 * names (`cali-tw-tap1`), so runbooks that name them still apply. IP set names swap the `:` of
 * `cali40s:<hash>` (not allowed in an nft identifier) for `.`.
 */
import type { TableName } from '../iptables/chain.js';

/** The name of Brindle's table in both families. */
export const NFT_TABLE = 'brindle';

/** `ip` or `ip6`: the nft family of an IP family. */
export function nftFamily(family: 4 | 6): 'ip' | 'ip6' {
  return family === 4 ? 'ip' : 'ip6';
}

/** The nft chain name of chain `name` of iptables table `table`. */
export function nftChainName(table: TableName, name: string): string {
  return table === 'filter' ? name : `${table}.${name}`;
}

/** The nft set name of kernel IP set `name` (`cali40s:abc` → `cali40s.abc`). */
export function nftSetName(name: string): string {
  return name.replaceAll(':', '.');
}

/** One of our base chains: the hook an iptables kernel chain stands for in our table. */
export interface NftBaseChain {
  readonly name: string;
  readonly type: 'filter' | 'nat';
  readonly hook: 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';
  /** nft's priority, as the iptables table of the same name registers it. */
  readonly priority: number;
}

const PRIORITY: Readonly<Record<TableName, number>> = { raw: -300, mangle: -150, filter: 0, nat: 0 };
const NAT_PRIORITY: Readonly<Record<string, number>> = { PREROUTING: -100, OUTPUT: -100, POSTROUTING: 100, INPUT: 100 };

/** The base chain standing for kernel chain `kernelChain` (INPUT, FORWARD, …) of `table`. */
export function nftBaseChain(table: TableName, kernelChain: string): NftBaseChain {
  const hook = kernelChain.toLowerCase();
  if (hook !== 'prerouting' && hook !== 'input' && hook !== 'forward' && hook !== 'output' && hook !== 'postrouting') {
    throw new Error(`No nftables hook for kernel chain ${kernelChain}`);
  }
  const priority = table === 'nat' ? (NAT_PRIORITY[kernelChain] ?? 0) : PRIORITY[table];
  return { name: `${table}.${kernelChain}`, type: table === 'nat' ? 'nat' : 'filter', hook, priority };
}
