import { kernelCidr } from './kernel-cidr.js';

/** One set as `ipset save` shows it. */
export interface KernelSet {
  readonly type: string;
  /** `inet` / `inet6` (undefined for types without a family, e.g. bitmap:port). */
  readonly family: string | undefined;
  readonly maxelem: number | undefined;
  /** False when the set was made with options we never use (timeout, counters, comment, …). */
  readonly plain: boolean;
  /** Members in printed form; a member saved with options keeps them (`198.18.0.0/24 nomatch`). */
  readonly members: Set<string>;
}

/** Sets Brindle owns: main sets `cali40…`/`cali60…`, temporary sets `cali4t…`/`cali6t…`. */
export function isOwnedSetName(name: string): boolean {
  return /^cali(40|60|4t|6t)/.test(name);
}

/** Create options the kernel always prints and we never set, or set to what we want. */
const NEUTRAL_OPTIONS = new Set(['family', 'hashsize', 'maxelem', 'bucketsize', 'initval']);

function parseCreate(tokens: readonly string[]): KernelSet {
  let family: string | undefined;
  let maxelem: number | undefined;
  let plain = true;
  for (let i = 3; i < tokens.length; i += 2) {
    const key = tokens[i] ?? '';
    const value = tokens[i + 1];
    if (key === 'family') family = value;
    else if (key === 'maxelem') maxelem = Number(value);
    if (!NEUTRAL_OPTIONS.has(key)) {
      plain = false;
      // Flag-style options (counters, comment, skbinfo, forceadd) take no value.
      if (value === undefined || /^[a-z]/.test(value)) i -= 1;
    }
  }
  return { type: tokens[2] ?? '', family, maxelem, plain, members: new Set() };
}

/**
 * Parses the output of one `ipset save` into the sets `isOwned` accepts; lines of other sets are
 * skipped without being looked at further.
 */
export function parseIpsetSave(text: string, isOwned: (name: string) => boolean = isOwnedSetName): Map<string, KernelSet> {
  const sets = new Map<string, KernelSet>();
  for (const line of text.split('\n')) {
    const tokens = line.trim().split(/\s+/);
    const [verb, name] = tokens;
    if (name === undefined || !isOwned(name)) continue;
    if (verb === 'create') {
      sets.set(name, parseCreate(tokens));
    } else if (verb === 'add') {
      const member = tokens.slice(2);
      const only = member.length === 1 ? kernelCidr(member[0] ?? '') : undefined;
      sets.get(name)?.members.add(only?.printed ?? member.join(' '));
    }
  }
  return sets;
}
