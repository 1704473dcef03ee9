import { parseCheck, referencedRules, type Check } from './check.js';
import { PolicyError } from './policy-errors.js';

/** Who is asking, as oslo.policy sees a request's credentials. */
export interface Credentials {
  readonly project_id: string;
  readonly user_id?: string;
  /** Lower-case role names, implied roles included (Keystone's tokens list them). */
  readonly roles: readonly string[];
}

/** The object a rule is checked against: its attributes, and its parent's under `network:` etc. */
export type Target = object;

/** A target's attribute (any object's own property). */
const attr = (t: Target, key: string): unknown => (t as Record<string, unknown>)[key];

/** A rule decided as far as the caller alone decides it: a constant, or a test of the target. */
export type Decision = boolean | ((target: Target) => boolean);

/** How Python's str() shows a value: oslo.policy compares strings. */
function pythonStr(v: unknown): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v === null || v === undefined) return 'None';
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v);
}

const SUBSTITUTION = /%\(([^)]+)\)s/g;

/** Neutron's convert_to_boolean for a field check's value. */
const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = { true: true, false: false, '1': true, '0': false };

/** `match` with `%(key)s` taken from the target; undefined when the target lacks a key (the check fails). */
function substitute(match: string, target: Target): string | undefined {
  let missing = false;
  const out = match.replace(SUBSTITUTION, (_all, key: string) => {
    const v = attr(target, key);
    if (v === undefined) missing = true;
    return pythonStr(v);
  });
  return missing ? undefined : out;
}

function not(d: Decision): Decision {
  return typeof d === 'boolean' ? !d : (t) => !d(t);
}

/** `and` (every) or `or` (some), folding what the caller alone decides. */
function combine(parts: readonly Decision[], every: boolean): Decision {
  const tests: ((t: Target) => boolean)[] = [];
  for (const p of parts) {
    if (typeof p === 'boolean') {
      if (p !== every) return p; // a false in an `and`, a true in an `or`
    } else tests.push(p);
  }
  if (tests.length === 0) return every;
  if (tests.length === 1) return tests[0] ?? every;
  return every ? (t) => tests.every((f) => f(t)) : (t) => tests.some((f) => f(t));
}

/**
 * A set of named rules in oslo.policy's language (Neutron's defaults with an operator's file
 * over them), parsed and checked once: every `rule:` reference resolves and none is circular.
 */
/** Callers remembered per policy (decisions are per credentials, so requests of one caller share them). */
const MAX_CALLERS = 4096;

export class Policy {
  readonly #checks: ReadonlyMap<string, Check>;
  readonly #callers = new Map<string, CallerPolicy>();
  readonly #byPrefix = new Map<string, readonly string[]>();

  constructor(rules: Readonly<Record<string, string>>) {
    const checks = new Map<string, Check>();
    for (const [name, text] of Object.entries(rules)) checks.set(name, parseCheck(text, name));
    for (const [name, check] of checks)
      for (const ref of referencedRules(check))
        if (!checks.has(ref)) throw new PolicyError('POLICY_REFERENCE', name, `refers to rule:${ref}, which is not defined`);
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, path: readonly string[]): void => {
      if (state.get(name) === 'done') return;
      if (state.get(name) === 'visiting')
        throw new PolicyError('POLICY_REFERENCE', name, `rules refer to each other in a circle: ${[...path, name].join(' -> ')}`);
      state.set(name, 'visiting');
      const check = checks.get(name);
      for (const ref of check === undefined ? [] : referencedRules(check)) visit(ref, [...path, name]);
      state.set(name, 'done');
    };
    for (const name of checks.keys()) visit(name, []);
    this.#checks = checks;
  }

  has(rule: string): boolean {
    return this.#checks.has(rule);
  }

  get ruleNames(): readonly string[] {
    return [...this.#checks.keys()];
  }

  /** The rule names that start with `prefix` (`get_port:` gives the port's attribute rules), in definition order. */
  rulesStartingWith(prefix: string): readonly string[] {
    let names = this.#byPrefix.get(prefix);
    if (names === undefined) {
      names = [...this.#checks.keys()].filter((n) => n.startsWith(prefix));
      this.#byPrefix.set(prefix, names);
    }
    return names;
  }

  /**
   * The rules as one caller sees them. Decisions depend on the credentials alone, so a caller's
   * requests share one `CallerPolicy` (a bounded number are kept; all are forgotten when full).
   */
  forCaller(creds: Credentials): CallerPolicy {
    const key = JSON.stringify([creds.project_id, creds.user_id ?? null, [...creds.roles].sort()]);
    let caller = this.#callers.get(key);
    if (caller === undefined) {
      if (this.#callers.size >= MAX_CALLERS) this.#callers.clear();
      caller = new CallerPolicy(this, this.#checks, creds);
      this.#callers.set(key, caller);
    }
    return caller;
  }
}

export class CallerPolicy {
  /** The policy these decisions are of: a request asks it (not the one in force by then) for rule names. */
  readonly policy: Policy;
  readonly #checks: ReadonlyMap<string, Check>;
  readonly #creds: Credentials & { readonly tenant_id: string; is_admin?: boolean };
  readonly #decided = new Map<string, Decision>();

  constructor(policy: Policy, checks: ReadonlyMap<string, Check>, creds: Credentials) {
    this.policy = policy;
    this.#checks = checks;
    this.#creds = { ...creds, tenant_id: creds.project_id, roles: creds.roles.map((r) => r.toLowerCase()) };
    // As Neutron's context: is_admin is what context_is_admin says of the caller alone.
    const admin = this.#checks.has('context_is_admin') ? this.decide('context_is_admin') : false;
    this.#creds.is_admin = admin === true;
  }

  get isAdmin(): boolean {
    return this.#creds.is_admin === true;
  }

  /**
   * The named rule for this caller. A rule that is not defined falls back to `default` (as
   * oslo.policy enforces it); with no `default` either, it denies.
   */
  decide(rule: string): Decision {
    let d = this.#decided.get(rule);
    if (d === undefined) {
      const check = this.#checks.get(rule) ?? this.#checks.get('default');
      d = check === undefined ? false : this.#decideCheck(check);
      this.#decided.set(rule, d);
    }
    return d;
  }

  allows(rule: string, target: Target): boolean {
    const d = this.decide(rule);
    return typeof d === 'boolean' ? d : d(target);
  }

  #decideCheck(c: Check): Decision {
    switch (c.kind) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'not':
        return not(this.#decideCheck(c.of));
      case 'and':
        return combine(
          c.of.map((x) => this.#decideCheck(x)),
          true,
        );
      case 'or':
        return combine(
          c.of.map((x) => this.#decideCheck(x)),
          false,
        );
      case 'rule':
        return this.decide(c.name);
      case 'role':
        return this.#creds.roles.includes(c.role);
      case 'field': {
        const { attribute, value } = c;
        // As Neutron's FieldCheck: an attribute the target lacks fails; a boolean attribute is
        // compared with the value read as a boolean (True, true, 1); `=~` matches from the start.
        if (typeof value !== 'string')
          return (t) => {
            const v = attr(t, attribute);
            return typeof v === 'string' && value.test(v);
          };
        const asBool = BOOLEAN_WORDS[value.toLowerCase()];
        return (t) => {
          const v = attr(t, attribute);
          if (v === undefined) return false;
          return typeof v === 'boolean' ? v === asBool : pythonStr(v) === value;
        };
      }
      case 'generic':
        return this.#generic(c.key, c.literal, c.match);
    }
  }

  #generic(key: string, literal: boolean, match: string): Decision {
    let left: string | readonly string[] | undefined;
    if (literal) left = key;
    else {
      const v = (this.#creds as unknown as Record<string, unknown>)[key];
      left = v === undefined ? undefined : Array.isArray(v) ? v.map(pythonStr) : pythonStr(v);
    }
    if (left === undefined) return false;
    const holds = (m: string): boolean => (typeof left === 'string' ? left === m : (left ?? []).includes(m));
    if (!match.includes('%(')) return holds(match);
    return (t) => {
      const m = substitute(match, t);
      return m !== undefined && holds(m);
    };
  }
}
