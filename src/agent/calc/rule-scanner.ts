import { silentLogger, type Logger } from '../../lib/index.js';
import type { Rule, Selector } from '../../model/index.js';
import { selectorIpSetId } from './ipset-id.js';
import type { ActiveRules, ParsedRule } from './model.js';
import { parseRule, widenRule, type RuleScope } from './parse-rule.js';

/** The rules of an active policy or profile, as written in the datastore. */
export interface RulesSource {
  readonly ingress: readonly Rule[];
  readonly egress: readonly Rule[];
  readonly scope: RuleScope;
}

/** Where the scanner takes and lets go of the IP sets its rules use. */
export interface SetRefs {
  ref(setId: string, sel: Selector): void;
  unref(setId: string): void;
}

/**
 * The rule scanner (Felix's RuleScanner): parses the rules of each active policy and profile,
 * turns their selectors into IP set ids, and holds a reference to each set while a rule uses it
 * (new sets are taken before old ones are let go, so a set kept across an update never flaps).
 *
 * Fail closed: an Allow (or Log) rule Brindle cannot render is left out; a Deny is made wider
 * instead, and a Pass becomes a wider Deny (passing more could let more through).
 */
export class RuleScanner {
  readonly #sets: SetRefs;
  readonly #log: Logger;
  readonly #active = new Map<string, { rules: ActiveRules; sets: readonly string[] }>();
  readonly #dirty = new Set<string>();

  constructor(sets: SetRefs, logger: Logger = silentLogger()) {
    this.#sets = sets;
    this.#log = logger;
  }

  get size(): number {
    return this.#active.size;
  }

  /** (Re)parses an active policy or profile (`np/…`, `gnp/…`, `pro/…`). */
  update(id: string, source: RulesSource): void {
    const sets: string[] = [];
    const sink = (sel: Selector): string => {
      const setId = selectorIpSetId(sel);
      sets.push(setId);
      this.#sets.ref(setId, sel);
      return setId;
    };
    const rules: ActiveRules = { id, ingress: this.#parse(id, 'ingress', source, sink), egress: this.#parse(id, 'egress', source, sink) };
    const old = this.#active.get(id);
    this.#active.set(id, { rules, sets });
    for (const s of old?.sets ?? []) this.#sets.unref(s);
    this.#dirty.add(id);
  }

  /** The policy or profile no longer applies to any local endpoint. */
  remove(id: string): void {
    const old = this.#active.get(id);
    if (old === undefined) return;
    this.#active.delete(id);
    for (const s of old.sets) this.#sets.unref(s);
    this.#dirty.add(id);
  }

  /** What changed since the last call: id → parsed rules, or undefined when gone. */
  takeChanged(): Map<string, ActiveRules | undefined> {
    const out = new Map<string, ActiveRules | undefined>();
    for (const id of this.#dirty) out.set(id, this.#active.get(id)?.rules);
    this.#dirty.clear();
    return out;
  }

  #parse(id: string, dir: 'ingress' | 'egress', source: RulesSource, sink: (sel: Selector) => string): ParsedRule[] {
    const { scope } = source;
    const out: ParsedRule[] = [];
    source[dir].forEach((r, i) => {
      const parsed = parseRule(r, scope, sink);
      if (!('reason' in parsed)) {
        out.push(parsed);
        return;
      }
      if (r.action === 'Allow' || r.action === 'Log') {
        this.#log.warn({ rules: id, direction: dir, index: i, reason: parsed.reason }, 'Rule skipped');
        return;
      }
      const widened = parseRule({ ...widenRule(r), action: 'Deny' }, scope, sink);
      this.#log.warn(
        { rules: id, direction: dir, index: i, reason: parsed.reason },
        `${r.action} rule widened to a Deny without the matches Brindle cannot render`,
      );
      if (!('reason' in widened)) out.push(widened);
    });
    return out;
  }
}
