import { PolicyError } from './policy-errors.js';

/**
 * One parsed oslo.policy check string. `generic` is oslo's `kind:match` (the caller's `kind`
 * against `match`, in which `%(key)s` is taken from the target); `field` is Neutron's
 * `field:resource:attribute=value` (`=~` for a regular expression).
 */
export type Check =
  | { readonly kind: 'true' }
  | { readonly kind: 'false' }
  | { readonly kind: 'not'; readonly of: Check }
  | { readonly kind: 'and'; readonly of: readonly Check[] }
  | { readonly kind: 'or'; readonly of: readonly Check[] }
  | { readonly kind: 'rule'; readonly name: string }
  | { readonly kind: 'role'; readonly role: string }
  | { readonly kind: 'generic'; readonly key: string; readonly literal: boolean; readonly match: string }
  | { readonly kind: 'field'; readonly attribute: string; readonly value: string | RegExp };

const TRUE: Check = { kind: 'true' };

/**
 * Splits a check string as oslo.policy does: on whitespace, then parentheses at the start or
 * end of a word become tokens of their own (those inside, as in `%(project_id)s`, stay).
 */
function tokens(text: string): string[] {
  const out: string[] = [];
  for (const word of text.split(/\s+/)) {
    const open = /^\(*/.exec(word)?.[0].length ?? 0;
    const rest = word.slice(open);
    const close = /\)*$/.exec(rest)?.[0].length ?? 0;
    const core = rest.slice(0, rest.length - close);
    for (let i = 0; i < open; i++) out.push('(');
    if (core !== '') out.push(core);
    for (let i = 0; i < close; i++) out.push(')');
  }
  return out;
}

/** A `kind:match` token. A quoted or constant left side is a literal (`'True':%(shared)s`). */
function atom(token: string, rule: string): Check {
  if (token === '@') return TRUE;
  if (token === '!') return { kind: 'false' };
  const colon = token.indexOf(':');
  if (colon <= 0) throw new PolicyError('POLICY_SYNTAX', rule, `'${token}' is not a check (expected kind:match, @ or !)`);
  const kind = token.slice(0, colon);
  const match = token.slice(colon + 1);
  if (kind === 'rule') return { kind: 'rule', name: match };
  if (kind === 'role') return { kind: 'role', role: match.toLowerCase() };
  if (kind === 'http' || kind === 'https') throw new PolicyError('POLICY_UNSUPPORTED', rule, `${kind}: checks are not supported`);
  if (kind === 'field') {
    const m = /^([^:]+):([^=]+)=(~?)(.*)$/.exec(match);
    if (m === null) throw new PolicyError('POLICY_SYNTAX', rule, `'${token}' is not field:resource:attribute=value`);
    const [, , attribute = '', tilde, value = ''] = m;
    let pattern: string | RegExp = value;
    if (tilde === '~') {
      try {
        // Python's re.match: anchored at the start.
        pattern = new RegExp(`^(?:${value})`);
      } catch (err) {
        throw new PolicyError('POLICY_SYNTAX', rule, `'${value}' is not a regular expression`, err);
      }
    }
    return { kind: 'field', attribute, value: pattern };
  }
  const quoted = /^(['"])(.*)\1$/.exec(kind);
  if (quoted !== null) return { kind: 'generic', key: quoted[2] ?? '', literal: true, match };
  if (/^(True|False|None|-?\d+)$/.test(kind)) return { kind: 'generic', key: kind, literal: true, match };
  return { kind: 'generic', key: kind, literal: false, match };
}

/**
 * Parses an oslo.policy check string: `and`, `or`, `not`, parentheses, `@`, `!`, `rule:`,
 * `role:`, `field:` and generic `kind:match` checks. An empty string allows everyone.
 * Errors name `rule`, the rule the string belongs to.
 */
export function parseCheck(text: string, rule: string): Check {
  const ts = tokens(text);
  let i = 0;
  const peek = (): string | undefined => ts[i];
  const word = (w: string): boolean => peek()?.toLowerCase() === w;
  const fail = (why: string): never => {
    throw new PolicyError('POLICY_SYNTAX', rule, `${why} in "${text}"`);
  };

  const orExpr = (): Check => {
    const of = [andExpr()];
    while (word('or')) {
      i++;
      of.push(andExpr());
    }
    return of.length === 1 ? (of[0] ?? TRUE) : { kind: 'or', of };
  };
  const andExpr = (): Check => {
    const of = [notExpr()];
    while (word('and')) {
      i++;
      of.push(notExpr());
    }
    return of.length === 1 ? (of[0] ?? TRUE) : { kind: 'and', of };
  };
  const notExpr = (): Check => {
    if (word('not')) {
      i++;
      return { kind: 'not', of: notExpr() };
    }
    const t = peek();
    if (t === undefined) return fail('a check is missing');
    if (t === '(') {
      i++;
      const inner = orExpr();
      if (peek() !== ')') fail("a ')' is missing");
      i++;
      return inner;
    }
    if (t === ')' || word('and') || word('or')) fail(`'${t}' is out of place`);
    i++;
    return atom(t, rule);
  };

  if (ts.length === 0) return TRUE;
  const check = orExpr();
  if (i < ts.length) fail(`'${ts[i] ?? ''}' is out of place`);
  return check;
}

/** The rule names a check refers to with `rule:`. */
export function referencedRules(c: Check): string[] {
  switch (c.kind) {
    case 'rule':
      return [c.name];
    case 'not':
      return referencedRules(c.of);
    case 'and':
    case 'or':
      return c.of.flatMap(referencedRules);
    default:
      return [];
  }
}
