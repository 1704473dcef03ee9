/** One rule of a chain as iptables-save shows it. */
export interface SavedRule {
  /** Our `cali:` id, or '' for another program's rule. */
  readonly hash: string;
  /**
   * The rule spec after `-A <chain> `, to delete it by value: kept only for rules in chains that
   * are not ours (kernel chains); '' in our own chains, which are compared by id and rewritten whole.
   */
  readonly spec: string;
}

/** Chains we own (Felix's prefix; older Felix prefixes are ours to clean up too). */
export const OWNED_CHAIN_RE = /^(cali-|califw-|calitw-|califh-|calith-|calipi-|calipo-|felix-)/;

/**
 * A copy of `s` that does not point into the string it was cut from: V8 keeps substrings of 13
 * or more characters as slices of their parent, so one kept id would pin the whole save output.
 */
function detached(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** A table as read back: every chain (declared or with rules) and its rules in order. */
export type SavedTable = Map<string, SavedRule[]>;

const HASH_RE = /--comment "?cali:([A-Za-z0-9_-]{16})"?/;

/**
 * Parses `iptables-save -t <table>` output. Only chain declarations and `-A` lines are read, and
 * of each rule only its `cali:` id (the text does not round-trip, so rules are compared by id).
 */
export function parseSave(text: string, table: string): SavedTable {
  const out: SavedTable = new Map();
  let inTable = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      inTable = line.slice(1).trim() === table;
      continue;
    }
    if (!inTable) continue;
    if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0];
      if (name !== undefined && name !== '' && !out.has(name)) out.set(detached(name), []);
    } else if (line.startsWith('-A ')) {
      const sp = line.indexOf(' ', 3);
      if (sp < 0) continue;
      const chain = line.slice(3, sp);
      const spec = line.slice(sp + 1);
      let rules = out.get(chain);
      if (rules === undefined) out.set(detached(chain), (rules = []));
      const hash = HASH_RE.exec(spec)?.[1];
      rules.push({ hash: hash === undefined ? '' : detached(hash), spec: OWNED_CHAIN_RE.test(chain) ? '' : detached(spec) });
    }
  }
  return out;
}
