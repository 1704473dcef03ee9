import { realClock, type Clock, type Exec, type Logger } from '../../../lib/index.js';
import type { IpFamily } from '../../calc/model.js';
import { endpointChainNames } from '../../rules/index.js';
import type { Chain, KernelChainRules, TableName } from '../iptables/chain.js';
import type { RulesApplied, RulesBackend } from '../rules-backend.js';
import { NftTable } from './nft-table.js';

const DISPATCH = [
  { root: 'cali-from-wl-dispatch', key: 'iifname', chain: (iface: string) => endpointChainNames(iface).from },
  { root: 'cali-to-wl-dispatch', key: 'oifname', chain: (iface: string) => endpointChainNames(iface).to },
] as const;

export interface NftRulesOptions {
  readonly exec: Exec;
  readonly families: readonly IpFamily[];
  readonly logger: Logger;
  readonly clock?: Clock;
}

/** The family of kernel IP set `name` (`cali40…` / `cali60…`, `cali4t…`). */
function setFamily(name: string): IpFamily {
  return name[4] === '6' ? 6 : 4;
}

/**
 * The rules in Brindle's own nftables table per family (`NftTable`): one `nft -f` transaction per
 * family holds sets, chains and dispatch together. Dispatch is one verdict-map lookup per
 * direction (`iifname vmap @cali-from-wl-dispatch-map`) followed by a DROP for unknown
 * interfaces, so a packet's cost does not grow with the number of taps and adding a tap is one
 * map element.
 */
export class NftRules implements RulesBackend {
  readonly kind = 'nft';
  readonly #clock: Clock;
  readonly #tables = new Map<IpFamily, NftTable>();

  constructor(o: NftRulesOptions) {
    this.#clock = o.clock ?? realClock();
    for (const family of o.families) {
      const t = new NftTable({ exec: o.exec, family, logger: o.logger });
      for (const d of DISPATCH) {
        t.addMap(`${d.root}-map`);
        t.setNativeChain(d.root, [`${d.key} vmap @${d.root}-map`, 'counter drop']);
      }
      this.#tables.set(family, t);
    }
  }

  get tables(): readonly NftTable[] {
    return [...this.#tables.values()];
  }

  #t(family: IpFamily): NftTable {
    const t = this.#tables.get(family);
    if (t === undefined) throw new Error(`no nft table for IPv${family}`);
    return t;
  }

  setChain(family: IpFamily, table: TableName, chain: Chain): void {
    this.#t(family).setChain(table, chain);
  }

  removeChain(family: IpFamily, table: TableName, name: string): void {
    this.#t(family).removeChain(table, name);
  }

  setKernelRules(family: IpFamily, table: TableName, kernelChain: string, rules: KernelChainRules): void {
    this.#t(family).setKernelRules(table, kernelChain, rules);
  }

  setDispatchEntry(family: IpFamily, iface: string, present: boolean): void {
    for (const d of DISPATCH) this.#t(family).setMapEntry(`${d.root}-map`, iface, present ? d.chain(iface) : undefined);
  }

  setSet(name: string, family: IpFamily, members: readonly string[]): void {
    this.#tables.get(family)?.setSet(name, members);
  }

  removeSet(name: string): void {
    this.#tables.get(setFamily(name))?.removeSet(name);
  }

  addMembers(name: string, members: readonly string[]): void {
    this.#tables.get(setFamily(name))?.addMembers(name, members);
  }

  removeMembers(name: string, members: readonly string[]): void {
    this.#tables.get(setFamily(name))?.removeMembers(name, members);
  }

  /** Makes each family's table fail closed at once if it does not exist (`NftTable.writeSkeleton`); true when the dispatch is in place. */
  async failClosed(): Promise<boolean> {
    let inPlace = true;
    for (const t of this.#tables.values()) if (!(await t.writeSkeleton())) inPlace = false;
    return inPlace;
  }

  markForResync(): void {
    for (const t of this.#tables.values()) t.markForResync();
  }

  async apply(): Promise<RulesApplied> {
    const t0 = this.#clock.monotonic();
    // The families' transactions are independent; both settle before the first failure is thrown.
    const settled = await Promise.allSettled([...this.#tables.values()].map((t) => t.apply()));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    const lines = settled.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value : 0), 0);
    return { setsMs: 0, rulesMs: this.#clock.monotonic() - t0, lines };
  }
}
