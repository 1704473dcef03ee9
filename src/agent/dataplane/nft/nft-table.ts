import { addRef, dropRef, InternPool, silentLogger, type Exec, type Logger } from '../../../lib/index.js';
import { NftApplyError, NftListError, NftTranslateError } from '../../errors.js';
import type { Chain, KernelChainRules, TableName } from '../iptables/chain.js';
import { ruleHashes } from '../iptables/rule-hashes.js';
import type { IptablesTableStats } from '../iptables/iptables-table.js';
import { kernelCidr } from '../ipsets/kernel-cidr.js';
import { isHostMember } from './cover-free.js';
import { hookText, planTransaction, sameList, type DesiredChain, type DesiredSet } from './plan-transaction.js';
import { NFT_TABLE, nftBaseChain, nftChainName, nftFamily, nftSetName, type NftBaseChain } from './nft-names.js';
import { emptyNftView, parseNftList, type NftView } from './parse-nft-list.js';
import { translateRule } from './translate-rule.js';

const JUMP_RE = /\b(?:jump|goto) (\S+)/g;
const SET_RE = /@(\S+)/g;

export interface NftTableOptions {
  readonly exec: Exec;
  readonly family: 4 | 6;
  readonly logger?: Logger;
}

/**
 * Brindle's own nftables table of one IP family (`ip brindle` / `ip6 brindle`): the chains of all
 * four iptables tables (`raw.`, `mangle.`, `nat.` prefixed), base chains on the hooks in place of
 * the kernel chains' jump rules, IP sets as hash sets (addresses) or interval sets (with nets),
 * and the dispatch as verdict maps
 * (`iifname vmap @cali-from-wl-dispatch-map`). Callers say what they want; `apply()` writes
 * every difference in one `nft -f -` transaction, which the kernel applies atomically or not at
 * all. The table is ours alone, so nothing in it is foreign: a rule without our id is rewritten.
 *
 * - Kernel view: `nft list table` (text, `parse-nft-list.ts`) at the start and after `markForResync()`/a failure; in
 *   between, what the last transaction wrote. Chains compare by their rules' ids (SHA-224 chain
 *   over the nft text), sets and maps by their elements.
 * - What to write is planned by `planTransaction` (`plan-transaction.ts`): changed and removed
 *   chains emptied first, then sets and their elements, new chains, rules, map entries, and
 *   last the chains and sets that go. A chain or set still named by a wanted rule or map entry
 *   is never deleted (it would fail the transaction).
 */
export class NftTable {
  readonly family: 4 | 6;
  readonly table = 'nft';
  readonly stats: IptablesTableStats = { restoreCalls: 0, restoreErrors: 0, saveCalls: 0, linesExecuted: 0, chains: 0, rules: 0 };
  readonly #exec: Exec;
  readonly #log: Logger;
  readonly #fam: 'ip' | 'ip6';
  readonly #chains = new Map<string, DesiredChain>();
  /** The rule bodies of `#chains`, one shared copy each. */
  readonly #bodies = new InternPool();
  readonly #sets = new Map<string, DesiredSet>();
  readonly #maps = new Map<string, Map<string, string>>();
  /** References from wanted rules and map entries: to chains, and to sets. */
  readonly #chainRefs = new Map<string, number>();
  readonly #setRefs = new Map<string, number>();
  #actual: NftView | undefined;
  #touchedChains = new Set<string>();
  /** Maps changed since the last plan: the keys touched, or `all`. */
  #touchedMaps = new Map<string, Set<string> | 'all'>();
  #checkAll = true;
  #dirty = true;
  #generation = 0;

  constructor(o: NftTableOptions) {
    this.family = o.family;
    this.#exec = o.exec;
    this.#fam = nftFamily(o.family);
    this.#log = (o.logger ?? silentLogger()).child({ table: `${this.#fam} ${NFT_TABLE}` });
  }

  #touch(): void {
    this.#dirty = true;
    this.#generation++;
  }

  #put(name: string, want: DesiredChain | undefined): void {
    const old = this.#chains.get(name);
    if (old !== undefined && want !== undefined && sameList(old.hashes, want.hashes) && old.base?.hook === want.base?.hook) return;
    for (const t of want?.targets ?? []) addRef(this.#chainRefs, t);
    for (const s of want?.sets ?? []) addRef(this.#setRefs, s);
    for (const t of old?.targets ?? []) this.#dropChainRef(t);
    for (const s of old?.sets ?? []) dropRef(this.#setRefs, s);
    // The new bodies are taken before the old go, so a body both share stays put.
    if (want === undefined) this.#chains.delete(name);
    else this.#chains.set(name, { ...want, bodies: want.bodies.map((b) => this.#bodies.take(b)) });
    for (const b of old?.bodies ?? []) this.#bodies.drop(b);
    this.#touchedChains.add(name);
    this.#touch();
  }

  /** A chain kept only because something named it goes once nothing does. */
  #dropChainRef(name: string): void {
    if (dropRef(this.#chainRefs, name) && !this.#chains.has(name)) this.#touchedChains.add(name);
  }

  #render(name: string, table: TableName, rules: Chain['rules'], base?: NftBaseChain): DesiredChain {
    try {
      return this.#fromBodies(
        name,
        rules.map((r) => translateRule(r, { family: this.family, table })),
        base,
      );
    } catch (err) {
      if (!(err instanceof NftTranslateError)) throw err;
      // Fail closed, and go on with the rest of the batch: this chain drops everything.
      this.#log.error({ chain: name, err: err.message }, 'A rule cannot be written in nftables; the chain drops everything');
      return this.#fromBodies(name, ['counter drop'], base);
    }
  }

  #fromBodies(name: string, bodies: readonly string[], base?: NftBaseChain): DesiredChain {
    const hashes = ruleHashes(
      name,
      bodies.map((b) => ({ match: '', action: b })),
    );
    const targets: string[] = [];
    const sets: string[] = [];
    for (const b of bodies) {
      for (const m of b.matchAll(JUMP_RE)) if (m[1] !== undefined) targets.push(m[1]);
      for (const m of b.matchAll(SET_RE)) if (m[1] !== undefined) sets.push(m[1]);
    }
    return { bodies, hashes, targets, sets, ...(base === undefined ? {} : { base }) };
  }

  /** Chain `chain.name` of iptables table `table`, whole. */
  setChain(table: TableName, chain: Chain): void {
    const name = nftChainName(table, chain.name);
    this.#put(name, this.#render(name, table, chain.rules));
  }

  /** A chain written in nft's own syntax (what iptables cannot say: a verdict map lookup). */
  setNativeChain(name: string, bodies: readonly string[]): void {
    this.#put(name, this.#fromBodies(name, bodies));
  }

  removeChain(table: TableName, name: string): void {
    this.#put(nftChainName(table, name), undefined);
  }

  /** What iptables would put into kernel chain `kernelChain` of `table`: here, a base chain of ours on its hook. */
  setKernelRules(table: TableName, kernelChain: string, rules: KernelChainRules): void {
    const base = nftBaseChain(table, kernelChain);
    this.#put(base.name, this.#render(base.name, table, [...rules.insert, ...rules.append], base));
  }

  /** Declares verdict map `name` (interface → `goto <chain>`), empty. */
  addMap(name: string): void {
    if (this.#maps.has(name)) return;
    this.#maps.set(name, new Map());
    this.#touchedMaps.set(name, 'all');
    this.#touch();
  }

  /** One entry of verdict map `name`: `key` goes to `chain` (undefined = no entry). */
  setMapEntry(name: string, key: string, chain: string | undefined): void {
    const map = this.#maps.get(name);
    if (map === undefined) throw new Error(`no map ${name}`);
    const old = map.get(key);
    const verdict = chain === undefined ? undefined : `goto ${chain}`;
    if (old === verdict) return;
    if (verdict !== undefined) {
      addRef(this.#chainRefs, verdict.slice(5));
      map.set(key, verdict);
    } else map.delete(key);
    if (old !== undefined) this.#dropChainRef(old.slice(5));
    const touched = this.#touchedMaps.get(name);
    if (touched === undefined) this.#touchedMaps.set(name, new Set([key]));
    else if (touched !== 'all') touched.add(key);
    this.#touch();
  }

  /** Set `name` (kernel IP set name) with exactly `members`. */
  setSet(name: string, members: readonly string[]): void {
    const key = nftSetName(name);
    const s: DesiredSet = { members: new Set(), touched: 'all', nets: 0 };
    this.#sets.set(key, s);
    this.#addTo(s, members);
    s.touched = 'all';
    this.#touch();
  }

  removeSet(name: string): void {
    if (this.#sets.delete(nftSetName(name))) this.#touch();
  }

  addMembers(name: string, members: readonly string[]): void {
    const s = this.#sets.get(nftSetName(name));
    if (s === undefined || members.length === 0) return;
    this.#addTo(s, members);
    this.#touch();
  }

  removeMembers(name: string, members: readonly string[]): void {
    const s = this.#sets.get(nftSetName(name));
    if (s === undefined || members.length === 0) return;
    for (const m of members) {
      const printed = kernelCidr(m)?.printed;
      if (printed === undefined || !s.members.delete(printed)) continue;
      if (!isHostMember(printed)) s.nets--;
      if (s.touched !== 'all') s.touched.add(printed);
    }
    this.#touch();
  }

  #addTo(s: DesiredSet, members: readonly string[]): void {
    for (const m of members) {
      const printed = kernelCidr(m)?.printed;
      if (printed === undefined || s.members.has(printed)) continue;
      s.members.add(printed);
      if (!isHostMember(printed)) s.nets++;
      if (s.touched !== 'all') s.touched.add(printed);
    }
  }

  markForResync(): void {
    this.#actual = undefined;
    this.#checkAll = true;
    this.#touch();
  }

  /**
   * On a host without our table: writes at once, in one transaction, the chains that make it
   * fail closed (every chain but the endpoint and policy chains: the hooks, the static chains,
   * the dispatch with its maps empty, so every tap is an unknown interface and dropped) and the
   * sets they name, and returns true. Where the table exists already (a restart) it writes
   * nothing and says whether those chains are already as wanted. The next apply reads the
   * table back and writes the rest.
   */
  async writeSkeleton(): Promise<boolean> {
    // The read-back the first apply needs anyway (`nft list tables` costs as much: nft 1.0
    // loads every object of every table first).
    const actual = (this.#actual ??= await this.#readBack());
    const chains = [...this.#chains].filter(([name]) => !/^cali-(tw|fw|pi|po|pri|pro)-/.test(name));
    if (actual.chains.size > 0) {
      // The table is there (a restart): fail closed already only if these chains are as wanted
      // (a changed prefix or a new version's static chains would otherwise pass traffic until
      // the full apply commits).
      return chains.every(
        ([name, d]) =>
          sameList(actual.chains.get(name), d.hashes) && (d.base === undefined ? !actual.hooks.has(name) : actual.hooks.get(name) === hookText(d.base)),
      );
    }
    // The transaction an empty table would get if only these chains, the sets they name and the
    // maps (without entries: every tap unknown) were wanted.
    const names = new Set(chains.flatMap(([, d]) => d.sets));
    const sets = new Map(
      [...this.#sets]
        .filter(([name]) => names.has(name))
        .map(([name, s]): [string, DesiredSet] => [name, { members: s.members, touched: 'all', nets: s.nets }]),
    );
    const plan = planTransaction({
      fam: this.#fam,
      family: this.family,
      desired: { chains: new Map(chains), sets, maps: new Map([...this.#maps.keys()].map((m) => [m, new Map()])), chainRefs: new Map(), setRefs: new Map() },
      actual: emptyNftView(),
      checkAll: true,
      touchedChains: new Set(),
      touchedMaps: new Map(),
      log: this.#log,
    });
    await this.#write(plan.lines);
    this.markForResync();
    return true;
  }

  async #readBack(): Promise<NftView> {
    this.stats.saveCalls++;
    const r = await this.#exec.run('nft', ['list', 'table', this.#fam, NFT_TABLE]);
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) return emptyNftView();
      throw new NftListError(r.stderr);
    }
    return parseNftList(r.stdout);
  }

  /** Runs `lines` as one `nft -f` transaction; on failure the kernel view is read back next time. */
  async #write(lines: readonly string[]): Promise<void> {
    const text = `${lines.join('\n')}\n`;
    this.stats.restoreCalls++;
    const r = await this.#exec.run('nft', ['-f', '-'], { input: text });
    if (r.code !== 0) {
      this.stats.restoreErrors++;
      this.markForResync();
      throw new NftApplyError(r.stderr, text);
    }
    this.stats.linesExecuted += lines.length;
  }

  /** Writes whatever differs in one transaction; returns the number of nft lines written. */
  async apply(): Promise<number> {
    if (!this.#dirty) return 0;
    const generation = this.#generation;
    const actual = this.#actual ?? (await this.#readBack());
    this.#actual = actual;
    const plan = this.#plan(actual);
    if (plan.lines.length === 0) {
      if (generation === this.#generation) this.#dirty = false;
      return 0;
    }
    await this.#write(plan.lines);
    plan.commit();
    if (generation === this.#generation) this.#dirty = false;
    return plan.lines.length;
  }

  #plan(actual: NftView): { lines: string[]; commit: () => void } {
    const plan = planTransaction({
      fam: this.#fam,
      family: this.family,
      desired: { chains: this.#chains, sets: this.#sets, maps: this.#maps, chainRefs: this.#chainRefs, setRefs: this.#setRefs },
      actual,
      checkAll: this.#checkAll,
      touchedChains: this.#touchedChains,
      touchedMaps: this.#touchedMaps,
      log: this.#log,
    });
    this.#touchedChains = new Set();
    this.#touchedMaps = new Map();
    this.#checkAll = false;
    this.stats.chains = this.#chains.size;
    this.stats.rules = plan.rules;
    return plan;
  }
}
