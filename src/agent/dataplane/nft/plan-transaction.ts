import type { Logger } from '../../../lib/index.js';
import { coverFree } from './cover-free.js';
import { NFT_TABLE, type NftBaseChain } from './nft-names.js';
import type { NftView } from './parse-nft-list.js';

/** A chain as wanted: its rule bodies and ids, and what its rules name. */
export interface DesiredChain {
  /** Rule bodies without their id (shared strings: 105,000 rules have about 2,000 distinct bodies). */
  readonly bodies: readonly string[];
  /** Each rule's id, written as `comment "cali:<id>"` after its body. */
  readonly hashes: readonly string[];
  /** Chains its rules jump or go to. */
  readonly targets: readonly string[];
  /** Sets its rules look up. */
  readonly sets: readonly string[];
  readonly base?: NftBaseChain;
}

export interface DesiredSet {
  /** Members in printed form, as given (may overlap). */
  readonly members: Set<string>;
  /** Members added or removed since the last apply; `all` = compare the whole set. */
  touched: Set<string> | 'all';
  /** Members that are nets, not host addresses (they may cover others). */
  nets: number;
}

/** What the table wants, as `NftTable` keeps it. */
export interface NftDesired {
  readonly chains: ReadonlyMap<string, DesiredChain>;
  readonly sets: ReadonlyMap<string, DesiredSet>;
  /** Verdict maps: key → `goto <chain>`. */
  readonly maps: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** References from wanted rules and map entries, to chains and to sets. */
  readonly chainRefs: ReadonlyMap<string, number>;
  readonly setRefs: ReadonlyMap<string, number>;
}

export interface PlanInput {
  readonly fam: 'ip' | 'ip6';
  readonly family: 4 | 6;
  readonly desired: NftDesired;
  readonly actual: NftView;
  /** Compare everything (start, resync, after a failure), not only what was touched. */
  readonly checkAll: boolean;
  readonly touchedChains: ReadonlySet<string>;
  readonly touchedMaps: ReadonlyMap<string, ReadonlySet<string> | 'all'>;
  readonly log: Logger;
}

export function hookText(b: NftBaseChain): string {
  return `${b.type}/${b.hook}/${b.priority}`;
}

export function sameList(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The one `nft -f` transaction that brings the kernel's table (`actual`, as far as known) to what
 * is wanted, and `commit`, which updates `actual` to what the transaction wrote once it was
 * applied. Sets' `touched` are reset (the caller keeps the rest of its bookkeeping). Order: the
 * kernel checks each command as it comes (a set or chain in use cannot be deleted, a rule cannot
 * name what does not exist yet) but applies them all at once.
 */
/** A chain's rules as `add rule` lines, each body followed by its id. */
function pushRules(out: string[], table: string, chain: string, d: DesiredChain): void {
  d.bodies.forEach((body, i) => out.push(`add rule ${table} ${chain} ${body} comment "cali:${d.hashes[i] ?? ''}"`));
}

export function planTransaction(i: PlanInput): { lines: string[]; commit: () => void; rules: number } {
  const { actual, checkAll, desired } = i;
  const touchedChains = checkAll ? new Set([...desired.chains.keys(), ...actual.chains.keys()]) : i.touchedChains;
  const touchedMaps: ReadonlyMap<string, ReadonlySet<string> | 'all'> = checkAll
    ? new Map([...desired.maps.keys(), ...actual.maps.keys()].map((m) => [m, 'all']))
    : i.touchedMaps;
  const T = `${i.fam} ${NFT_TABLE}`;
  const setType = i.family === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const head: string[] = [`add table ${T}`];
  const setLines: string[] = [];
  const declare: string[] = [];
  const rules: string[] = [];
  const mapLines: string[] = [];
  const mapDeletes: string[] = [];
  const chainFlushes: string[] = [];
  const chainDeletes: string[] = [];
  const setDeletes: string[] = [];
  const commits: (() => void)[] = [];

  // Sets: new ones whole, old ones by the members touched (or whole when nets may cover others).
  // A set of addresses only is a hash set: nft 1.0 reads every interval set's elements back
  // before any element change (80 ms a transaction at 54,000 elements, against 25 ms for hash
  // sets). A set whose kind must change is made again, with the chains that name it flushed
  // first and refilled after (a set in use cannot be deleted).
  const refilled = new Set<string>();
  for (const [name, s] of desired.sets) {
    // An empty set keeps the kind it has (emptying a pool set must not make it again).
    const interval = s.nets > 0 || (s.members.size === 0 && actual.intervalSets.has(name));
    let have = actual.sets.get(name);
    if (have !== undefined && actual.intervalSets.has(name) !== interval) {
      for (const [chainName, d] of desired.chains) {
        if (!d.sets.includes(name) || !actual.chains.has(chainName) || refilled.has(chainName)) continue;
        refilled.add(chainName);
        setLines.push(`flush chain ${T} ${chainName}`);
        pushRules(rules, T, chainName, d);
        commits.push(() => actual.chains.set(chainName, d.hashes));
      }
      setLines.push(`delete set ${T} ${name}`);
      have = undefined;
      s.touched = 'all';
    }
    if (!checkAll && have !== undefined && s.touched !== 'all' && s.touched.size === 0) continue;
    if (have === undefined) setLines.push(`add set ${T} ${name} { type ${setType};${interval ? ' flags interval;' : ''} }`);
    const want = interval ? coverFree(s.members) : s.members;
    const candidates: Iterable<string> = have === undefined || s.touched === 'all' || interval || checkAll ? new Set([...want, ...(have ?? [])]) : s.touched;
    const add: string[] = [];
    const del: string[] = [];
    for (const m of candidates) {
      const w = want.has(m);
      const h = have?.has(m) === true;
      if (w && !h) add.push(m);
      else if (!w && h) del.push(m);
    }
    for (let i = 0; i < del.length; i += 2000) setLines.push(`delete element ${T} ${name} { ${del.slice(i, i + 2000).join(', ')} }`);
    for (let i = 0; i < add.length; i += 2000) setLines.push(`add element ${T} ${name} { ${add.slice(i, i + 2000).join(', ')} }`);
    s.touched = new Set();
    const was = have;
    commits.push(() => {
      const now = was ?? new Set<string>();
      for (const m of del) now.delete(m);
      for (const m of add) now.add(m);
      actual.sets.set(name, now);
      if (interval) actual.intervalSets.add(name);
      else actual.intervalSets.delete(name);
    });
  }
  for (const name of actual.sets.keys()) {
    if (desired.sets.has(name)) continue;
    if ((desired.setRefs.get(name) ?? 0) > 0) {
      i.log.warn({ set: name }, 'A set still named by a rule is not deleted');
      continue;
    }
    setDeletes.push(`delete set ${T} ${name}`);
    commits.push(() => {
      actual.sets.delete(name);
      actual.intervalSets.delete(name);
    });
  }

  // Chains.
  let ruleCount = 0;
  for (const name of touchedChains) {
    if (refilled.has(name)) continue;
    const want = desired.chains.get(name);
    const have = actual.chains.get(name);
    if (want === undefined) {
      if (have === undefined) continue;
      if ((desired.chainRefs.get(name) ?? 0) > 0) {
        // Still named by a wanted rule or map entry: keep it, dropping everything (an empty
        // chain would return to its caller, and a tap's chain returning means accepted).
        if (have.length !== 1 || have[0] !== 'kept-drop') {
          chainFlushes.push(`flush chain ${T} ${name}`);
          rules.push(`add rule ${T} ${name} counter drop comment "cali:kept-drop"`);
        }
        commits.push(() => actual.chains.set(name, ['kept-drop']));
        continue;
      }
      chainFlushes.push(`flush chain ${T} ${name}`);
      chainDeletes.push(`delete chain ${T} ${name}`);
      commits.push(() => {
        actual.chains.delete(name);
        actual.hooks.delete(name);
      });
      continue;
    }
    const hookOk = want.base === undefined ? !actual.hooks.has(name) : actual.hooks.get(name) === hookText(want.base);
    if (have !== undefined && hookOk && sameList(have, want.hashes)) continue;
    if (have !== undefined && !hookOk) {
      // A chain's hook cannot change in place: delete and make it again (a base chain is
      // never a jump target, so it can go first).
      chainFlushes.push(`flush chain ${T} ${name}`, `delete chain ${T} ${name}`);
    }
    const b = want.base;
    const spec = b === undefined ? '' : ` { type ${b.type} hook ${b.hook} priority ${b.priority}; policy accept; }`;
    // A changed chain is emptied first of all: what its old rules named (a set being made
    // again, a chain being deleted) is free before anything else happens.
    if (have === undefined || !hookOk) declare.push(`add chain ${T} ${name}${spec}`);
    else chainFlushes.push(`flush chain ${T} ${name}`);
    pushRules(rules, T, name, want);
    commits.push(() => {
      // Shared, not copied: both sides treat the lists as read-only.
      actual.chains.set(name, want.hashes);
      if (b === undefined) actual.hooks.delete(name);
      else actual.hooks.set(name, hookText(b));
    });
  }
  for (const d of desired.chains.values()) ruleCount += d.hashes.length;

  // Verdict maps.
  for (const [name, keys] of touchedMaps) {
    const want = desired.maps.get(name);
    const have = actual.maps.get(name);
    if (want === undefined) {
      if (have === undefined) continue;
      mapDeletes.push(`delete map ${T} ${name}`);
      commits.push(() => actual.maps.delete(name));
      continue;
    }
    if (have === undefined) setLines.push(`add map ${T} ${name} { type ifname : verdict; }`);
    const add: [string, string][] = [];
    const del: string[] = [];
    const candidates: Iterable<string> = have === undefined || keys === 'all' ? new Set([...want.keys(), ...(have?.keys() ?? [])]) : keys;
    for (const k of candidates) {
      const w = want.get(k);
      const h = have?.get(k);
      if (w === h) continue;
      if (h !== undefined) del.push(k);
      if (w !== undefined) add.push([k, w]);
    }
    // A changed entry is deleted first (in the removals before the chains go) and added after.
    if (del.length > 0) mapDeletes.unshift(`delete element ${T} ${name} { ${del.map((k) => `"${k}"`).join(', ')} }`);
    if (add.length > 0) mapLines.push(`add element ${T} ${name} { ${add.map(([k, v]) => `"${k}" : ${v}`).join(', ')} }`);
    commits.push(() => {
      const now = have ?? new Map<string, string>();
      for (const k of del) now.delete(k);
      for (const [k, v] of add) now.set(k, v);
      actual.maps.set(name, now);
    });
  }

  // Removed chains are emptied first; removed map entries go before chains are rewritten (a
  // changed entry is re-added after), but after new chains exist; chains deleted last of all,
  // then sets.
  // One transaction: the kernel checks each command as it comes (a set or chain in use cannot be
  // deleted, a rule cannot name what does not exist yet) but applies them all at once.
  const body = [...chainFlushes, ...setLines, ...declare, ...mapDeletes, ...rules, ...mapLines, ...chainDeletes, ...setDeletes];
  if (body.length === 0) return { lines: [], commit: () => {}, rules: ruleCount };
  return {
    rules: ruleCount,
    lines: [...head, ...body],
    commit: () => {
      for (const c of commits) c();
    },
  };
}
