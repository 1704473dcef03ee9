import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SelectorSyntaxError } from '../errors.js';
import { matchSelector } from './match-selector.js';
import { parseSelector } from './parse-selector.js';
import { printSelector } from './print-selector.js';

const labels = { a: 'x', b: 'y', 'sg.projectcalico.org/openstack-1': 'web', 'app.kubernetes.io/name': 'db-main', empty: '' };

// [selector, matches `labels`?]
const MATCH_CASES: [string, boolean][] = [
  ['', true],
  ['   ', true],
  ['all()', true],
  ['global()', false],
  ['has(a)', true],
  ['has(zzz)', false],
  ['has( a )', true],
  ['!has(a)', false],
  ['!has(zzz)', true],
  ['has(sg.projectcalico.org/openstack-1)', true],
  ['a == "x"', true],
  ["a == 'x'", true],
  ['a=="x"', true],
  ['a == "y"', false],
  ['zzz == "x"', false],
  ['a != "y"', true],
  ['a != "x"', false],
  ['zzz != "x"', true],
  ['empty == ""', true],
  ['a in {"x", "z"}', true],
  ['a in {"z"}', false],
  ['a in {}', false],
  ['zzz in {"x"}', false],
  ['a not in {"x"}', false],
  ['a not in {"z", "w"}', true],
  ['zzz not in {"x"}', true],
  ['a notin {"x"}', false],
  ['app.kubernetes.io/name contains "main"', true],
  ['app.kubernetes.io/name contains "side"', false],
  ['zzz contains ""', false],
  ['app.kubernetes.io/name starts with "db"', true],
  ['app.kubernetes.io/name starts with "main"', false],
  ['app.kubernetes.io/name ends with "main"', true],
  ['app.kubernetes.io/name ends with "db"', false],
  ['a == "x" && b == "y"', true],
  ['a == "x" && b == "z"', false],
  ['a == "z" || b == "y"', true],
  ['a == "z" || b == "z"', false],
  // && binds tighter than ||: false || (true && true)
  ['a == "z" || a == "x" && b == "y"', true],
  // (false || true) && false
  ['(a == "z" || a == "x") && b == "z"', false],
  // without parens: false || (true && false) = false; with && first: same; check || left-assoc
  ['a == "x" || a == "z" && b == "z"', true],
  // ! binds tighter than &&
  ['!has(zzz) && has(a)', true],
  ['!(has(zzz) || has(a))', false],
  ['!!has(a)', true],
  ['((has(a)))', true],
  ['a == \'say "hi"\'', false],
];

describe('parseSelector + matchSelector', () => {
  for (const [text, expected] of MATCH_CASES) {
    it(`${JSON.stringify(text)} → ${expected}`, () => {
      const sel = parseSelector(text);
      assert.equal(matchSelector(sel, labels), expected);
      // The canonical form parses back to an equivalent selector with the same result.
      const again = parseSelector(printSelector(sel));
      assert.equal(printSelector(again), printSelector(sel));
      assert.equal(matchSelector(again, labels), expected);
    });
  }

  it('prints a canonical form: sets sorted and de-duplicated, chains parenthesised', () => {
    assert.equal(printSelector(parseSelector("a in {'z','x','z'}")), 'a in {"x", "z"}');
    assert.equal(printSelector(parseSelector('a=="1"&&b=="2"||!has(c)')), '((a == "1" && b == "2") || !has(c))');
    assert.equal(printSelector(parseSelector('x starts with "p"')), 'x starts with "p"');
    assert.equal(printSelector(parseSelector('')), 'all()');
  });
});

// [selector, position of the error, fragment of the message]
const ERROR_CASES: [string, number, string][] = [
  ['has(a', 5, 'expected ")"'],
  ['has()', 4, 'a label name'],
  ['a == x', 5, 'a quoted string'],
  ['a == "x', 5, 'unterminated string'],
  ['a = "x"', 2, 'unexpected character "="'],
  ['a', 1, 'an operator'],
  ['a foo "x"', 2, 'an operator'],
  ['a not "x"', 6, '"in"'],
  ['a starts "x"', 9, '"with"'],
  ['a in "x"', 5, '"{"'],
  ['a in {"x" "y"}', 10, '"," or "}"'],
  ['a in {"x",}', 10, 'a quoted string'],
  ['has(a) &&', 9, 'end of input'],
  ['has(a) has(b)', 7, '"&&", "||" or end of input'],
  ['(has(a)', 7, 'expected ")"'],
  ['&& has(a)', 0, 'a label'],
  ['all(x)', 4, 'expected ")"'],
  ['has(a) & has(b)', 7, 'unexpected character "&"'],
  ['a == "x" ||', 11, 'end of input'],
];

describe('parseSelector errors', () => {
  for (const [text, pos, fragment] of ERROR_CASES) {
    it(`${JSON.stringify(text)} fails at ${pos}`, () => {
      assert.throws(
        () => parseSelector(text),
        (err: unknown) => {
          assert.ok(err instanceof SelectorSyntaxError, String(err));
          assert.equal(err.position, pos, err.message);
          assert.ok(err.message.includes(fragment), `${err.message} should include ${fragment}`);
          assert.ok(err.message.startsWith(`Invalid selector at position ${pos}:`));
          assert.equal(err.code, 'MODEL_SELECTOR_SYNTAX');
          return true;
        },
      );
    });
  }
});
