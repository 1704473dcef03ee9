import { addRef, dropRef, silentLogger, type Exec, type Logger } from '../../../lib/index.js';
import { IptablesRestoreError, IptablesSaveError } from '../../errors.js';
import type { Chain, IptRule, KernelChainRules, TableName } from './chain.js';
import { iptablesCommands, type IptablesBackend } from './iptables-backend.js';
import { OWNED_CHAIN_RE, parseSave, type SavedTable } from './parse-save.js';
import { ruleHashes, ruleSpec } from './rule-hashes.js';

const JUMP_RE = /(?:^|\s)-[jg] (cali-\S+)/g;

interface DesiredChain {
  readonly chain: Chain;
  readonly hashes: readonly string[];
  readonly targets: readonly string[];
}

interface DesiredKernel {
  readonly specs: readonly string[];
  readonly hashes: readonly string[];
  readonly insertCount: number;
}

export interface IptablesTableOptions {
  readonly exec: Exec;
  readonly table: TableName;
  readonly family: 4 | 6;
  readonly backend: IptablesBackend;
  readonly insertMode?: 'insert' | 'append';
  readonly logger?: Logger;
}

/** Counters for metrics. */
export interface IptablesTableStats {
  restoreCalls: number;
  restoreErrors: number;
  saveCalls: number;
  linesExecuted: number;
  chains: number;
  rules: number;
}

/** Our rule: it carries our id, or it jumps to one of our chains (an older Felix's hook). */
function isOurs(r: { hash: string; spec: string }): boolean {
  if (r.hash !== '') return true;
  for (const m of r.spec.matchAll(/(?:^|\s)-[jg] (\S+)/g)) if (m[1] !== undefined && OWNED_CHAIN_RE.test(m[1])) return true;
  return false;
}

function targetsOf(chain: Chain): string[] {
  const out: string[] = [];
  for (const r of chain.rules) for (const m of r.action.matchAll(JUMP_RE)) if (m[1] !== undefined) out.push(m[1]);
  return out;
}

function sameRules(a: readonly IptRule[], b: readonly IptRule[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (
      x === undefined ||
      y === undefined ||
      x.match !== y.match ||
      x.action !== y.action ||
      (x.comment ?? []).join('\u0000') !== (y.comment ?? []).join('\u0000')
    )
      return false;
  }
  return true;
}

function sameList(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Owns Brindle's chains of one iptables table and IP family, and its rules in kernel chains.
 * Callers say what they want (`setChain`, `removeChain`, `setKernelRules`); `apply()` writes only
 * the differences in one atomic `iptables-restore --noflush` transaction.
 *
 * - Only chains reachable from our kernel-chain rules are programmed (unreferenced policy chains
 *   cost nothing); owned chains that are not wanted are flushed and deleted.
 * - Every rule carries its position-dependent `cali:` id, so the kernel view is compared id by id.
 * - The kernel view is read with `iptables-save` at the start and on `markForResync()` (the
 *   periodic refresh, or after a failure); between reads it is updated from what we wrote, so one
 *   new endpoint does not cost a read of the whole table.
 * - Other programs' rules and chains are never touched: our rules in kernel chains are deleted by
 *   value, never by index.
 */
export class IptablesTable {
  readonly table: TableName;
  readonly family: 4 | 6;
  readonly stats: IptablesTableStats = { restoreCalls: 0, restoreErrors: 0, saveCalls: 0, linesExecuted: 0, chains: 0, rules: 0 };
  readonly #exec: Exec;
  readonly #cmds: { save: string; restore: string };
  readonly #insertMode: 'insert' | 'append';
  readonly #log: Logger;
  readonly #desired = new Map<string, DesiredChain>();
  readonly #kernelDesired = new Map<string, DesiredKernel>();
  /** What the kernel holds, as far as we know; undefined = must read back first. */
  #actual: SavedTable | undefined;
  #dirty = true;
  /** Bumped by every change of what is wanted, so an apply only clears `dirty` if nothing changed meanwhile. */
  #generation = 0;
  /** Chains set or removed since the last plan; only these are compared unless `#checkAll`. */
  #touched = new Set<string>();
  /** Compare every chain and kernel chain (start, resync, after a failure). */
  #checkAll = true;
  #kernelTouched = true;
  /**
   * Reachability from our kernel-chain rules, kept by counting: for each chain, the jumps to it
   * from our kernel-chain rules and from chains that are themselves reachable. A change costs
   * the jumps it adds or removes (and the subtrees that become (un)reachable), not a walk of
   * every chain. Our chains never loop (the kernel refuses loops), so the counts stay exact.
   */
  readonly #refs = new Map<string, number>();
  /** The jump targets of our rules in each kernel chain. */
  readonly #kernelTargets = new Map<string, string[]>();

  constructor(o: IptablesTableOptions) {
    this.table = o.table;
    this.family = o.family;
    this.#exec = o.exec;
    this.#cmds = iptablesCommands(o.backend, o.family);
    this.#insertMode = o.insertMode ?? 'insert';
    this.#log = (o.logger ?? silentLogger()).child({ table: o.table, ipVersion: o.family });
  }

  setChain(chain: Chain): void {
    const old = this.#desired.get(chain.name);
    // Re-rendered but unchanged (most dispatch chains when one tap comes): nothing to hash or write.
    if (old !== undefined && (old.chain === chain || sameRules(old.chain.rules, chain.rules))) return;
    const targets = targetsOf(chain);
    this.#desired.set(chain.name, { chain, hashes: ruleHashes(chain.name, chain.rules), targets });
    if (this.#reachable(chain.name)) this.#retarget(old?.targets ?? [], targets);
    this.#touched.add(chain.name);
    this.#touch();
  }

  removeChain(name: string): void {
    const old = this.#desired.get(name);
    if (old === undefined) return;
    this.#desired.delete(name);
    if (this.#reachable(name)) this.#retarget(old.targets, []);
    this.#touched.add(name);
    this.#touch();
  }

  #reachable(name: string): boolean {
    return (this.#refs.get(name) ?? 0) > 0;
  }

  /** Jumps from a reachable place change from `before` to `after`: count the new ones first, so nothing shared drops to 0 in between. */
  #retarget(before: readonly string[], after: readonly string[]): void {
    for (const t of after) this.#addRef(t);
    for (const t of before) this.#dropRef(t);
  }

  #addRef(name: string): void {
    if (!addRef(this.#refs, name)) return;
    this.#touched.add(name);
    for (const t of this.#desired.get(name)?.targets ?? []) this.#addRef(t);
  }

  #dropRef(name: string): void {
    if (!dropRef(this.#refs, name)) return;
    this.#touched.add(name);
    for (const t of this.#desired.get(name)?.targets ?? []) this.#dropRef(t);
  }

  /** Our rules in a kernel chain (INPUT, FORWARD, …); empty lists remove them. */
  setKernelRules(kernelChain: string, rules: KernelChainRules): void {
    const inserts = rules.insert;
    const appends = rules.append;
    const hashes = [...ruleHashes(kernelChain, inserts), ...ruleHashes(`${kernelChain}*appends*`, appends)];
    const specs = [...inserts, ...appends].map((r, i) => ruleSpec(r, hashes[i] ?? ''));
    this.#kernelDesired.set(kernelChain, { specs, hashes, insertCount: inserts.length });
    const targets: string[] = [];
    for (const spec of specs) for (const m of spec.matchAll(JUMP_RE)) if (m[1] !== undefined) targets.push(m[1]);
    this.#retarget(this.#kernelTargets.get(kernelChain) ?? [], targets);
    this.#kernelTargets.set(kernelChain, targets);
    this.#kernelTouched = true;
    this.#touch();
  }

  /** Forget the kernel view: the next apply reads the table back and repairs any drift. */
  markForResync(): void {
    this.#actual = undefined;
    this.#checkAll = true;
    this.#touch();
  }

  #touch(): void {
    this.#dirty = true;
    this.#generation++;
  }

  get needsApply(): boolean {
    return this.#dirty;
  }

  /** The next apply would read the table back first. */
  get needsReadBack(): boolean {
    return this.#dirty && this.#actual === undefined;
  }

  /**
   * Takes the table's state from a whole-family `iptables-save` (without `-t`): with nftables
   * every save reads the whole ruleset, so the caller reads once for all four tables.
   */
  primeFromSave(saveOutput: string): void {
    this.stats.saveCalls++;
    this.#actual = parseSave(saveOutput, this.table);
  }

  /** Writes whatever differs; returns the number of restore lines written (0 = nothing to do). */
  async apply(): Promise<number> {
    if (!this.#dirty) return 0;
    const generation = this.#generation;
    const actual = this.#actual ?? (await this.#readBack());
    const input = this.#plan(actual);
    if (input.lines.length === 0) {
      if (generation === this.#generation) this.#dirty = false;
      return 0;
    }
    const text = `*${this.table}\n${input.lines.join('\n')}\nCOMMIT\n`;
    this.stats.restoreCalls++;
    const r = await this.#exec.run(this.#cmds.restore, ['--noflush', '--wait', '10'], { input: text });
    if (r.code !== 0) {
      this.stats.restoreErrors++;
      this.#actual = undefined;
      this.#checkAll = true;
      throw new IptablesRestoreError(`${this.#cmds.restore} (${this.table})`, r.stderr, text);
    }
    this.stats.linesExecuted += input.lines.length;
    this.#log.debug({ chains: input.chainsWritten, removed: input.chainsRemoved, kernelChains: input.kernelWritten }, 'iptables-restore applied');
    input.commit();
    if (generation === this.#generation) this.#dirty = false;
    return input.lines.length;
  }

  async #readBack(): Promise<SavedTable> {
    this.stats.saveCalls++;
    const r = await this.#exec.run(this.#cmds.save, ['-t', this.table]);
    if (r.code !== 0) throw new IptablesSaveError(`${this.#cmds.save} -t ${this.table}`, r.stderr);
    this.#actual = parseSave(r.stdout, this.table);
    return this.#actual;
  }

  #plan(actual: SavedTable): { lines: string[]; commit: () => void; chainsWritten: string[]; chainsRemoved: string[]; kernelWritten: string[] } {
    // Only what changed is compared: chains set or removed, and chains that became (un)reachable
    // (the counting marks those as touched).
    const wanted = this.#refs;
    const checkAll = this.#checkAll || this.#actual === undefined;
    const kernelCheck = checkAll || this.#kernelTouched;
    const touched = this.#touched;
    this.#touched = new Set();
    this.#checkAll = false;
    this.#kernelTouched = false;
    const candidates: Iterable<string> = checkAll ? new Set([...wanted.keys(), ...actual.keys()]) : touched;
    const declare: string[] = [];
    const rules: string[] = [];
    const kernel: string[] = [];
    const deletes: string[] = [];
    const written = new Map<string, DesiredChain>();
    const removed: string[] = [];
    let ruleCount = 0;
    for (const name of candidates) {
      if (!wanted.has(name)) {
        if (!actual.has(name) || !OWNED_CHAIN_RE.test(name)) continue;
        declare.push(`:${name} - -`);
        deletes.push(`-X ${name}`);
        removed.push(name);
        continue;
      }
      const d = this.#desired.get(name);
      if (d === undefined) {
        this.#log.warn({ chain: name }, 'A referenced chain has no content; programming it empty');
      }
      const hashes = d?.hashes ?? [];
      ruleCount += hashes.length;
      const have = actual.get(name);
      if (
        have !== undefined &&
        sameList(
          have.map((r) => r.hash),
          hashes,
        )
      )
        continue;
      if (have !== undefined) this.#log.debug({ chain: name, have: have.map((r) => r.hash || 'foreign'), want: hashes }, 'Chain differs');
      declare.push(`:${name} - -`);
      d?.chain.rules.forEach((r, i) => rules.push(`-A ${name} ${ruleSpec(r, d.hashes[i] ?? '')}`));
      written.set(name, d ?? { chain: { name, rules: [] }, hashes: [], targets: [] });
    }
    const kernelNow = new Map<string, { hash: string; spec: string }[]>();
    const kernelChains = new Set(kernelCheck ? [...this.#kernelDesired.keys()] : []);
    if (kernelCheck) for (const [name, saved] of actual) if (!OWNED_CHAIN_RE.test(name) && saved.some((r) => isOurs(r))) kernelChains.add(name);
    for (const name of kernelChains) {
      const want = this.#kernelDesired.get(name) ?? { specs: [], hashes: [], insertCount: 0 };
      // A hook into one of our chains without an id (an older Felix's) counts as ours: deleted.
      const have = (actual.get(name) ?? []).map((r) => (r.hash === '' && isOurs(r) ? { hash: 'old-insert-rule', spec: r.spec } : r));
      if (this.#kernelInPlace(have, want)) continue;
      this.#log.debug({ chain: name, have: have.map((r) => r.hash || 'foreign'), want: want.hashes }, 'Kernel chain out of place');
      for (const r of have) if (r.hash !== '') kernel.push(`-D ${name} ${r.spec}`);
      const foreign = have.filter((r) => r.hash === '');
      const inserts = want.specs.slice(0, want.insertCount);
      const appends = want.specs.slice(want.insertCount);
      if (this.#insertMode === 'insert') for (let i = inserts.length - 1; i >= 0; i--) kernel.push(`-I ${name} 1 ${inserts[i]}`);
      else for (const s of inserts) kernel.push(`-A ${name} ${s}`);
      for (const s of appends) kernel.push(`-A ${name} ${s}`);
      const mine = (specs: readonly string[], from: number): { hash: string; spec: string }[] =>
        specs.map((spec, i) => ({ hash: want.hashes[from + i] ?? '', spec }));
      kernelNow.set(
        name,
        this.#insertMode === 'insert'
          ? [...mine(inserts, 0), ...foreign, ...mine(appends, inserts.length)]
          : [...foreign, ...mine(inserts, 0), ...mine(appends, inserts.length)],
      );
    }
    this.stats.chains = wanted.size;
    if (checkAll) this.stats.rules = ruleCount;
    const lines = [...declare, ...rules, ...kernel, ...deletes];
    return {
      lines,
      chainsWritten: [...written.keys()],
      chainsRemoved: removed,
      kernelWritten: [...kernelNow.keys()],
      commit: () => {
        // Our chains are compared by id only: no spec text kept for them.
        for (const [name, d] of written)
          actual.set(
            name,
            d.hashes.map((hash) => ({ hash, spec: '' })),
          );
        for (const name of removed) actual.delete(name);
        for (const [name, rs] of kernelNow) actual.set(name, rs);
      },
    };
  }

  /** Our rules are where they belong: inserts first (or after foreign rules), appends last, in order. */
  #kernelInPlace(have: readonly { hash: string }[], want: DesiredKernel): boolean {
    const ours = have.filter((r) => r.hash !== '').map((r) => r.hash);
    if (!sameList(ours, want.hashes)) return false;
    const n = want.insertCount;
    const appendCount = want.hashes.length - n;
    if (this.#insertMode === 'insert') {
      for (let i = 0; i < n; i++) if (have[i]?.hash !== want.hashes[i]) return false;
    }
    for (let i = 0; i < appendCount; i++) if (have[have.length - appendCount + i]?.hash !== want.hashes[n + i]) return false;
    return true;
  }
}
