import { silentLogger, type Exec, type Logger } from '../../../lib/index.js';
import { IpsetRestoreError, IpsetSaveError, IpsetSpecError, firstStderrLine } from './errors.js';
import { kernelCidr } from './kernel-cidr.js';
import { parseIpsetSave, type KernelSet } from './ipset-save-parser.js';

export interface IpsetDriverOptions {
  readonly exec: Exec;
  readonly logger?: Logger;
  /** `maxelem` of every set we create (Felix's MaxIpsetSize). */
  readonly maxElem?: number;
  /** Per-command timeout; a killed restore leaves the kernel state unknown (resync follows). */
  readonly timeoutMs?: number;
}

/** Counters for metrics (names follow Felix's felix_ipset_* family). */
export interface IpsetStats {
  /** Desired sets and their total members. */
  readonly sets: number;
  readonly members: number;
  /** Owned sets in the kernel as last read or written (desired, stale and temporary). */
  readonly kernelSets: number;
  /** Owned kernel sets waiting for `applyDeletions`. */
  readonly pendingDeletions: number;
  readonly calls: number;
  readonly linesExecuted: number;
  readonly errors: number;
  readonly resyncs: number;
}

/** What one `applyDeletions` did. */
export interface IpsetDeletionResult {
  readonly destroyed: readonly string[];
  /** Sets the kernel refused to destroy (in use, usually); retried on the next call. */
  readonly deferred: readonly string[];
}

interface DesiredSet {
  readonly family: 4 | 6;
  readonly members: Set<string>;
}

const SET_TYPE = 'hash:net';
const MAX_NAME_LENGTH = 31;

function familyName(family: 4 | 6): string {
  return family === 4 ? 'inet' : 'inet6';
}

/**
 * Keeps the kernel's `cali40…`/`cali60…` IP sets equal to a desired model. Updates are written in
 * one `ipset restore` session per apply; deletions are a separate step so the caller can run them
 * after iptables stopped referencing the sets. Sets with other names are never touched.
 */
export class IpsetDriver {
  readonly #exec: Exec;
  readonly #log: Logger;
  readonly #maxElem: number;
  readonly #timeoutMs: number;
  readonly #desired = new Map<string, DesiredSet>();
  /** The kernel's owned sets as we last read or wrote them; undefined = resync needed. */
  #kernel: Map<string, KernelSet> | undefined;
  readonly #dirty = new Set<string>();
  /** Bumped by markForResync, so a resync asked for during an apply is not lost. */
  #epoch = 0;
  #tempSeq = 0;
  #calls = 0;
  #lines = 0;
  #errors = 0;
  #resyncs = 0;

  constructor(options: IpsetDriverOptions) {
    this.#exec = options.exec;
    this.#log = options.logger ?? silentLogger();
    this.#maxElem = options.maxElem ?? 1_048_576;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Replaces the whole membership of `name` (CIDRs or bare addresses of `family`). */
  setDesired(name: string, family: 4 | 6, members: Iterable<string>): void {
    const expected = name.startsWith('cali40') ? 4 : name.startsWith('cali60') ? 6 : undefined;
    if (expected === undefined || name.length > MAX_NAME_LENGTH) {
      throw new IpsetSpecError(name, `a desired set is named cali40… (IPv4) or cali60… (IPv6), at most ${MAX_NAME_LENGTH} characters`);
    }
    if (expected !== family) throw new IpsetSpecError(name, `the name says IPv${expected} but the family is IPv${family}`);
    const normalised = new Set<string>();
    for (const m of members) for (const n of this.#normalise(name, family, m)) normalised.add(n);
    this.#checkSize(name, normalised.size);
    this.#desired.set(name, { family, members: normalised });
    this.#dirty.add(name);
  }

  /** Adds members to a desired set (a delta); the set must have been given to `setDesired` (unless none are added). */
  addMembers(name: string, members: Iterable<string>): void {
    const list = [...members];
    const set = this.#desired.get(name);
    if (set === undefined) {
      if (list.length === 0) return;
      throw new IpsetSpecError(name, 'addMembers on a set that is not desired');
    }
    const added = new Set<string>();
    for (const m of list) for (const n of this.#normalise(name, set.family, m)) if (!set.members.has(n)) added.add(n);
    this.#checkSize(name, set.members.size + added.size);
    for (const n of added) set.members.add(n);
    this.#dirty.add(name);
  }

  /** Removes members from a desired set (a delta); unknown sets and members are ignored. */
  removeMembers(name: string, members: Iterable<string>): void {
    const set = this.#desired.get(name);
    if (set === undefined) return;
    for (const m of members) for (const n of this.#normalise(name, set.family, m)) set.members.delete(n);
    this.#dirty.add(name);
  }

  /** Forgets a set; `applyDeletions` destroys it in the kernel. */
  removeDesired(name: string): void {
    this.#desired.delete(name);
    this.#dirty.delete(name);
  }

  /** Forces a full read-back before the next apply (after errors, or periodically). */
  markForResync(): void {
    this.#kernel = undefined;
    this.#epoch++;
  }

  /** True when `applyUpdates` has something to do (or must resync first). */
  get needsUpdate(): boolean {
    return this.#kernel === undefined || this.#dirty.size > 0;
  }

  get stats(): IpsetStats {
    let members = 0;
    for (const s of this.#desired.values()) members += s.members.size;
    return {
      sets: this.#desired.size,
      members,
      kernelSets: this.#kernel?.size ?? 0,
      pendingDeletions: this.#staleSets().length,
      calls: this.#calls,
      linesExecuted: this.#lines,
      errors: this.#errors,
      resyncs: this.#resyncs,
    };
  }

  /** Reads every owned set with one `ipset save`; the next apply repairs any difference. */
  async resync(): Promise<void> {
    this.#calls++;
    const result = await this.#exec.run('ipset', ['save'], { timeoutMs: this.#timeoutMs });
    if (result.code !== 0) {
      this.#errors++;
      throw new IpsetSaveError(result);
    }
    this.#kernel = parseIpsetSave(result.stdout);
    this.#resyncs++;
    for (const name of this.#desired.keys()) this.#dirty.add(name);
    this.#log.debug({ kernelSets: this.#kernel.size }, 'ipset resync');
  }

  /**
   * Creates missing sets and brings members in line, in one `ipset restore` session. Destroys
   * nothing of ours except a same-named set of the wrong type or family, which the kernel
   * cannot swap (that set is destroyed just before and recreated in the session; if it is in use,
   * it stays wrong and dirty, and the failure is logged and counted).
   */
  async applyUpdates(): Promise<void> {
    if (this.#kernel === undefined) await this.resync();
    const epoch = this.#epoch;
    const kernel = this.#kernel ?? new Map<string, KernelSet>();
    const dirty = [...this.#dirty].filter((n) => this.#desired.has(n));
    const stuck = new Set<string>();
    for (const name of dirty) {
      const have = kernel.get(name);
      const want = this.#desired.get(name);
      if (have === undefined || want === undefined || this.#swappable(have, want.family)) continue;
      if (await this.#destroy(name)) kernel.delete(name);
      else stuck.add(name);
    }
    const lines: string[] = [];
    const written = new Map<string, KernelSet>();
    for (const name of dirty) {
      const want = this.#desired.get(name);
      if (want === undefined || stuck.has(name)) continue;
      this.#renderSet({ name, want, have: kernel.get(name), lines, written });
    }
    if (lines.length > 0) {
      this.#calls++;
      const result = await this.#exec.run('ipset', ['restore', '-exist'], { input: `${lines.join('\n')}\nCOMMIT\n`, timeoutMs: this.#timeoutMs });
      if (result.code !== 0) {
        this.#errors++;
        this.#kernel = undefined;
        throw new IpsetRestoreError(result);
      }
      this.#lines += lines.length;
    }
    for (const [name, set] of written) kernel.set(name, set);
    for (const name of dirty) if (!stuck.has(name)) this.#dirty.delete(name);
    this.#kernel = epoch === this.#epoch ? kernel : undefined;
  }

  /**
   * Destroys owned kernel sets that are not desired (including temporary sets left by swaps).
   * Call after iptables stopped referencing them. A set the kernel refuses to destroy is logged
   * and retried next time; this never throws for a refused destroy.
   */
  async applyDeletions(options: { max?: number } = {}): Promise<IpsetDeletionResult> {
    if (this.#kernel === undefined) await this.resync();
    const destroyed: string[] = [];
    const deferred: string[] = [];
    for (const name of this.#staleSets().slice(0, options.max ?? Infinity)) {
      if (await this.#destroy(name)) {
        this.#kernel?.delete(name);
        destroyed.push(name);
      } else {
        deferred.push(name);
      }
    }
    return { destroyed, deferred };
  }

  #staleSets(): string[] {
    return [...(this.#kernel?.keys() ?? [])].filter((n) => !this.#desired.has(n));
  }

  #swappable(have: KernelSet, family: 4 | 6): boolean {
    return have.type === SET_TYPE && have.family === familyName(family);
  }

  /** Appends the restore lines that turn `have` into `want`; records the resulting kernel sets. */
  #renderSet(args: { name: string; want: DesiredSet; have: KernelSet | undefined; lines: string[]; written: Map<string, KernelSet> }): void {
    const { name, want, have, lines, written } = args;
    const create = (n: string): string => `create ${n} ${SET_TYPE} family ${familyName(want.family)} maxelem ${this.#maxElem}`;
    const result: KernelSet = { type: SET_TYPE, family: familyName(want.family), maxelem: this.#maxElem, plain: true, members: new Set(want.members) };
    if (have === undefined) {
      lines.push(create(name));
      for (const m of want.members) lines.push(`add ${name} ${m}`);
    } else if (have.maxelem !== this.#maxElem || !have.plain) {
      // Same type and family but other options: build a replacement and swap it in atomically.
      const temp = this.#tempName(want.family);
      lines.push(create(temp));
      for (const m of want.members) lines.push(`add ${temp} ${m}`);
      lines.push(`swap ${name} ${temp}`);
      written.set(temp, have);
    } else {
      for (const m of have.members) if (!want.members.has(m)) lines.push(`del ${name} ${m.split(' ')[0] ?? m}`);
      for (const m of want.members) if (!have.members.has(m)) lines.push(`add ${name} ${m}`);
    }
    written.set(name, result);
  }

  #tempName(family: 4 | 6): string {
    const prefix = family === 4 ? 'cali4t' : 'cali6t';
    for (;;) {
      const name = `${prefix}${this.#tempSeq++}`;
      if (this.#kernel?.has(name) !== true) return name;
    }
  }

  /** `ipset destroy`; false (logged, counted) when the kernel refuses. A missing set counts as gone. */
  async #destroy(name: string): Promise<boolean> {
    this.#calls++;
    const result = await this.#exec.run('ipset', ['destroy', name], { timeoutMs: this.#timeoutMs });
    if (result.code === 0) {
      this.#lines++;
      return true;
    }
    const reason = firstStderrLine(result);
    if (/does not exist/.test(reason)) return true;
    this.#errors++;
    this.#log.warn({ set: name, reason }, /in use/.test(reason) ? 'IP set still in use; will retry destroy' : 'IP set destroy failed; will retry');
    return false;
  }

  #normalise(name: string, family: 4 | 6, member: string): string[] {
    const cidr = kernelCidr(member);
    if (cidr === undefined || cidr.family !== family) throw new IpsetSpecError(name, `member ${member} is not an IPv${family} CIDR`);
    if (cidr.prefixLength > 0) return [cidr.printed];
    // hash:net cannot hold a /0: cover the space with its two halves instead.
    return family === 4 ? ['0.0.0.0/1', '128.0.0.0/1'] : ['::/1', '8000::/1'];
  }

  #checkSize(name: string, size: number): void {
    if (size > this.#maxElem) throw new IpsetSpecError(name, `${size} members exceed maxelem ${this.#maxElem}`);
  }
}
