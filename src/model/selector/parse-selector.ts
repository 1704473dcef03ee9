import { SelectorSyntaxError } from '../errors.js';
import type { Selector } from './ast.js';

type TokenKind = 'ident' | 'string' | '(' | ')' | '{' | '}' | ',' | '&&' | '||' | '==' | '!=' | '!' | 'end';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly pos: number;
}

const IDENT_RE = /[A-Za-z0-9_./-]/;
const PUNCT: readonly TokenKind[] = ['&&', '||', '==', '!=', '!', '(', ')', '{', '}', ','];

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = input.indexOf(c, i + 1);
      if (end < 0) throw new SelectorSyntaxError(input, i, 'unterminated string');
      tokens.push({ kind: 'string', text: input.slice(i + 1, end), pos: i });
      i = end + 1;
      continue;
    }
    const punct = PUNCT.find((p) => input.startsWith(p, i));
    if (punct !== undefined) {
      tokens.push({ kind: punct, text: punct, pos: i });
      i += punct.length;
      continue;
    }
    if (IDENT_RE.test(c)) {
      let j = i;
      while (j < input.length && IDENT_RE.test(input.charAt(j))) j++;
      tokens.push({ kind: 'ident', text: input.slice(i, j), pos: i });
      i = j;
      continue;
    }
    throw new SelectorSyntaxError(input, i, `unexpected character ${JSON.stringify(c)}`);
  }
  tokens.push({ kind: 'end', text: '', pos: input.length });
  return tokens;
}

function describe(t: Token): string {
  if (t.kind === 'end') return 'end of input';
  if (t.kind === 'string') return `string ${JSON.stringify(t.text)}`;
  return JSON.stringify(t.text);
}

/** Recursive-descent parser: `||` binds loosest, then `&&`, then prefix `!`. */
class Parser {
  #i = 0;
  constructor(
    readonly input: string,
    readonly tokens: readonly Token[],
  ) {}

  peek(): Token {
    return this.tokens[this.#i] ?? { kind: 'end', text: '', pos: this.input.length };
  }

  next(): Token {
    const t = this.peek();
    this.#i++;
    return t;
  }

  fail(t: Token, expected: string): never {
    throw new SelectorSyntaxError(this.input, t.pos, `expected ${expected} but found ${describe(t)}`);
  }

  expect(kind: TokenKind, expected: string): Token {
    const t = this.next();
    if (t.kind !== kind) this.fail(t, expected);
    return t;
  }

  expectWord(word: string): void {
    const t = this.next();
    if (t.kind !== 'ident' || t.text !== word) this.fail(t, `"${word}"`);
  }

  parseOr(): Selector {
    let left = this.parseAnd();
    while (this.peek().kind === '||') {
      this.next();
      left = { op: '||', left, right: this.parseAnd() };
    }
    return left;
  }

  parseAnd(): Selector {
    let left = this.parseUnary();
    while (this.peek().kind === '&&') {
      this.next();
      left = { op: '&&', left, right: this.parseUnary() };
    }
    return left;
  }

  parseUnary(): Selector {
    if (this.peek().kind === '!') {
      this.next();
      return { op: '!', expr: this.parseUnary() };
    }
    return this.parsePrimary();
  }

  parsePrimary(): Selector {
    const t = this.next();
    if (t.kind === '(') {
      const inner = this.parseOr();
      this.expect(')', '")"');
      return inner;
    }
    if (t.kind !== 'ident') this.fail(t, 'a label, has(), all(), global(), "!" or "("');
    if (this.peek().kind === '(' && (t.text === 'all' || t.text === 'global' || t.text === 'has')) {
      this.next();
      if (t.text === 'has') {
        const key = this.expect('ident', 'a label name');
        this.expect(')', '")"');
        return { op: 'has', key: key.text };
      }
      this.expect(')', '")"');
      return { op: t.text === 'all' ? 'all' : 'global' };
    }
    return this.parseComparison(t.text);
  }

  parseComparison(key: string): Selector {
    const op = this.next();
    switch (op.kind) {
      case '==':
      case '!=':
        return { op: op.kind, key, value: this.expect('string', 'a quoted string').text };
      case 'ident':
        break;
      default:
        this.fail(op, 'an operator (==, !=, in, not in, contains, starts with, ends with)');
    }
    switch (op.text) {
      case 'in':
        return { op: 'in', key, values: this.parseSet() };
      case 'not':
        this.expectWord('in');
        return { op: 'not in', key, values: this.parseSet() };
      case 'notin': // Calico's tokenizer accepts it written as one word too
        return { op: 'not in', key, values: this.parseSet() };
      case 'contains':
        return { op: 'contains', key, value: this.expect('string', 'a quoted string').text };
      case 'starts':
        this.expectWord('with');
        return { op: 'starts with', key, value: this.expect('string', 'a quoted string').text };
      case 'ends':
        this.expectWord('with');
        return { op: 'ends with', key, value: this.expect('string', 'a quoted string').text };
      default:
        return this.fail(op, 'an operator (==, !=, in, not in, contains, starts with, ends with)');
    }
  }

  parseSet(): string[] {
    this.expect('{', '"{"');
    const values: string[] = [];
    if (this.peek().kind === '}') {
      this.next();
      return values;
    }
    for (;;) {
      values.push(this.expect('string', 'a quoted string').text);
      const sep = this.next();
      if (sep.kind === '}') return values;
      if (sep.kind !== ',') this.fail(sep, '"," or "}"');
    }
  }
}

/**
 * Parses a Calico selector. An empty (or all-whitespace) selector means `all()`, as in Calico.
 * Throws SelectorSyntaxError naming the 0-based position of the problem.
 */
export function parseSelector(input: string): Selector {
  const tokens = tokenize(input);
  if (tokens.length === 1) return { op: 'all' };
  const parser = new Parser(input, tokens);
  const sel = parser.parseOr();
  const rest = parser.next();
  if (rest.kind !== 'end') parser.fail(rest, '"&&", "||" or end of input');
  return sel;
}
