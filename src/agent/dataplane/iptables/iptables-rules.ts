import { realClock, type Clock, type Exec, type Logger } from '../../../lib/index.js';
import type { IpFamily } from '../../calc/model.js';
import type { DataplaneConfig } from '../../config.js';
import { IptablesSaveError } from '../../errors.js';
import { renderDispatchChains } from '../../rules/index.js';
import { IpsetDriver } from '../ipsets/ipset-driver.js';
import type { RulesApplied, RulesBackend } from '../rules-backend.js';
import { TABLE_NAMES, type Chain, type KernelChainRules, type TableName } from './chain.js';
import { iptablesCommands, type IptablesBackend } from './iptables-backend.js';
import { IptablesTable } from './iptables-table.js';

export interface IptablesRulesOptions {
  readonly exec: Exec;
  readonly backend: IptablesBackend;
  readonly families: readonly IpFamily[];
  readonly config: DataplaneConfig;
  readonly logger: Logger;
  readonly clock?: Clock;
}

/**
 * The rules in iptables (four tables per family, each one `iptables-restore --noflush`
 * transaction) and IP sets in ipset (one `ipset restore` session), in Felix's order: set creates
 * and updates, every table, set deletions. Dispatch is a tree of chains (`renderDispatchChains`).
 */
export class IptablesRules implements RulesBackend {
  readonly kind = 'iptables';
  readonly #exec: Exec;
  readonly #backend: IptablesBackend;
  readonly #families: readonly IpFamily[];
  readonly #config: DataplaneConfig;
  readonly #clock: Clock;
  readonly #tables = new Map<string, IptablesTable>();
  readonly #ipsets: IpsetDriver;
  readonly #dispatchNames = new Map<IpFamily, Set<string>>();
  /** The interfaces in each family's dispatch; the tree is rendered again on apply when it changed. */
  readonly #dispatch = new Map<IpFamily, Set<string>>();
  readonly #dispatchDirty = new Set<IpFamily>();

  constructor(o: IptablesRulesOptions) {
    this.#exec = o.exec;
    this.#backend = o.backend;
    this.#families = o.families;
    this.#config = o.config;
    this.#clock = o.clock ?? realClock();
    for (const family of o.families) {
      for (const table of TABLE_NAMES) {
        this.#tables.set(
          `${family}:${table}`,
          new IptablesTable({ exec: o.exec, table, family, backend: o.backend, insertMode: o.config.chainInsertMode, logger: o.logger }),
        );
      }
    }
    this.#ipsets = new IpsetDriver({ exec: o.exec, logger: o.logger });
  }

  get tables(): readonly IptablesTable[] {
    return [...this.#tables.values()];
  }

  #table(family: IpFamily, table: TableName): IptablesTable {
    const t = this.#tables.get(`${family}:${table}`);
    if (t === undefined) throw new Error(`no ${table} table for IPv${family}`);
    return t;
  }

  setChain(family: IpFamily, table: TableName, chain: Chain): void {
    this.#table(family, table).setChain(chain);
  }

  removeChain(family: IpFamily, table: TableName, name: string): void {
    this.#table(family, table).removeChain(name);
  }

  setKernelRules(family: IpFamily, table: TableName, kernelChain: string, rules: KernelChainRules): void {
    this.#table(family, table).setKernelRules(kernelChain, rules);
  }

  setDispatchEntry(family: IpFamily, iface: string, present: boolean): void {
    let members = this.#dispatch.get(family);
    if (members === undefined) this.#dispatch.set(family, (members = new Set()));
    if (members.has(iface) === present) return;
    if (present) members.add(iface);
    else members.delete(iface);
    this.#dispatchDirty.add(family);
  }

  /** Dispatch trees are bins of the sorted names: a change re-renders the family's tree (unchanged chains are not rewritten). */
  #renderDispatch(family: IpFamily): void {
    const filter = this.#table(family, 'filter');
    const chains = renderDispatchChains([...(this.#dispatch.get(family) ?? [])].sort(), this.#config);
    const now = new Set(chains.map((c) => c.name));
    for (const old of this.#dispatchNames.get(family) ?? []) if (!now.has(old)) filter.removeChain(old);
    for (const c of chains) filter.setChain(c);
    this.#dispatchNames.set(family, now);
  }

  setSet(name: string, family: IpFamily, members: readonly string[]): void {
    this.#ipsets.setDesired(name, family, members);
  }

  removeSet(name: string): void {
    this.#ipsets.removeDesired(name);
  }

  addMembers(name: string, members: readonly string[]): void {
    this.#ipsets.addMembers(name, members);
  }

  removeMembers(name: string, members: readonly string[]): void {
    this.#ipsets.removeMembers(name, members);
  }

  /** iptables has no cheap fail-closed skeleton here: the first apply writes everything first. */
  async failClosed(): Promise<boolean> {
    return Promise.resolve(false);
  }

  markForResync(): void {
    for (const t of this.#tables.values()) t.markForResync();
    this.#ipsets.markForResync();
  }

  async apply(): Promise<RulesApplied> {
    // A family's dispatch tree is rendered when it changed, or once before anything (empty: DROP).
    for (const family of new Set([...this.#dispatchDirty, ...this.#families.filter((f) => !this.#dispatchNames.has(f))])) this.#renderDispatch(family);
    this.#dispatchDirty.clear();
    const t0 = this.#clock.monotonic();
    await this.#ipsets.applyUpdates();
    const t1 = this.#clock.monotonic();
    await this.#readBackTables();
    // Every table settles before this apply returns (a failed one must not leave others still
    // writing when the caller retries); the first failure is then thrown.
    const settled = await Promise.allSettled([...this.#tables.values()].map((t) => t.apply()));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    const lines = settled.reduce((n, r) => n + (r.status === 'fulfilled' ? r.value : 0), 0);
    await this.#ipsets.applyDeletions();
    return { setsMs: t1 - t0, rulesMs: this.#clock.monotonic() - t1, lines };
  }

  /** One `iptables-save` per family for all the tables that must be read back (not one per table). */
  async #readBackTables(): Promise<void> {
    for (const family of this.#families) {
      const tables = TABLE_NAMES.map((t) => this.#table(family, t)).filter((t) => t.needsReadBack);
      if (tables.length === 0) continue;
      const save = iptablesCommands(this.#backend, family).save;
      const r = await this.#exec.run(save, []);
      if (r.code !== 0) throw new IptablesSaveError(save, r.stderr);
      for (const t of tables) t.primeFromSave(r.stdout);
    }
  }
}
