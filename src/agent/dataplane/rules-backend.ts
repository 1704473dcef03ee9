import type { IpFamily } from '../calc/model.js';
import type { Chain, KernelChainRules, TableName } from './iptables/chain.js';
import type { IptablesTableStats } from './iptables/iptables-table.js';

/** Which kernel facility carries the agent's rules and IP sets. */
export type DataplaneKind = 'iptables' | 'nft';

/** What one `apply()` of the rules did. */
export interface RulesApplied {
  readonly setsMs: number;
  readonly rulesMs: number;
  /** Lines written (iptables-restore and nft lines alike). */
  readonly lines: number;
}

/**
 * The rules half of the dataplane, behind which iptables + ipset and Brindle's own nftables
 * table are interchangeable: the managers say which chains (in iptables' four-table layout,
 * rendered by rules/), kernel-chain hooks, dispatch entries and IP sets they want; `apply()`
 * writes the differences (sets that rules need first, sets no longer named last).
 */
export interface RulesBackend {
  readonly kind: DataplaneKind;
  /** Per-table counters, for metrics. */
  readonly tables: readonly { readonly table: string; readonly family: number; readonly stats: IptablesTableStats }[];
  setChain(family: IpFamily, table: TableName, chain: Chain): void;
  removeChain(family: IpFamily, table: TableName, name: string): void;
  setKernelRules(family: IpFamily, table: TableName, kernelChain: string, rules: KernelChainRules): void;
  /** Whether the dispatch sends workload interface `iface` to its `cali-fw-`/`cali-tw-` chains. */
  setDispatchEntry(family: IpFamily, iface: string, present: boolean): void;
  setSet(name: string, family: IpFamily, members: readonly string[]): void;
  removeSet(name: string): void;
  addMembers(name: string, members: readonly string[]): void;
  removeMembers(name: string, members: readonly string[]): void;
  /**
   * Puts the fail-closed part in place if it is missing (the hooks and a dispatch that drops
   * every tap) without waiting for the whole ruleset; true when that is done, so the host side
   * may run beside the first full apply. False: the first apply must finish alone.
   */
  failClosed(): Promise<boolean>;
  /** Forget every kernel view: the next apply reads back and repairs drift. */
  markForResync(): void;
  apply(): Promise<RulesApplied>;
}
