import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Labels } from './ast.js';
import { LabelIndex } from './label-index.js';
import { matchSelector } from './match-selector.js';
import { parseSelector } from './parse-selector.js';

function recorder() {
  const events: string[] = [];
  const index = new LabelIndex<string, string>({
    onMatchStarted: (s, i) => events.push(`+${s}:${i}`),
    onMatchStopped: (s, i) => events.push(`-${s}:${i}`),
  });
  return { index, events };
}

describe('LabelIndex', () => {
  it('reports matches as selectors and items come and go', () => {
    const { index, events } = recorder();
    index.updateLabels('ep1', { role: 'web' });
    index.updateSelector('web', parseSelector('role == "web"'));
    index.updateSelector('notdb', parseSelector('role != "db"'));
    assert.deepEqual(events.splice(0), ['+web:ep1', '+notdb:ep1']);
    index.updateLabels('ep2', { role: 'db' });
    assert.deepEqual(events.splice(0), []);
    index.updateLabels('ep2', { role: 'web' });
    assert.deepEqual(events.splice(0).sort(), ['+notdb:ep2', '+web:ep2']);
    index.updateSelector('web', parseSelector('role == "db"'));
    assert.deepEqual(events.splice(0).sort(), ['-web:ep1', '-web:ep2']);
    index.deleteLabels('ep1');
    assert.deepEqual(events.splice(0), ['-notdb:ep1']);
    index.deleteSelector('notdb');
    assert.deepEqual(events.splice(0), ['-notdb:ep2']);
    assert.deepEqual([...index.matchesOf('web')], []);
    assert.deepEqual([...index.selectorsMatching('ep2')], []);
  });

  it('re-sending the same labels or selector reports nothing', () => {
    const { index, events } = recorder();
    index.updateLabels('ep1', { a: '1' });
    index.updateSelector('s', parseSelector('has(a)'));
    events.length = 0;
    index.updateLabels('ep1', { a: '1' });
    index.updateSelector('s', parseSelector('has( a )'));
    assert.deepEqual(events, []);
  });

  it('a label change re-tests only selectors that look at the changed key', () => {
    const { index } = recorder();
    for (let i = 0; i < 200; i++) index.updateSelector(`sg${i}`, parseSelector(`has(sg-${i})`));
    for (let i = 0; i < 100; i++) index.updateLabels(`ep${i}`, { [`sg-${i}`]: '', zone: 'a' });
    const before = index.evaluations;
    index.updateLabels('ep7', { 'sg-7': '', 'sg-8': '', zone: 'a' });
    assert.equal(index.evaluations - before, 1, 'only has(sg-8) is re-tested');
    assert.ok(index.matchesOf('sg8').has('ep7'));
    const before2 = index.evaluations;
    index.updateLabels('ep7', { 'sg-7': '', 'sg-8': '', zone: 'b' });
    assert.equal(index.evaluations - before2, 0, 'no selector looks at zone');
  });

  it('a new selector is tested only against items carrying its required label', () => {
    const { index } = recorder();
    for (let i = 0; i < 1000; i++) index.updateLabels(`ep${i}`, { group: `g${i % 10}`, [`own-${i}`]: 'x' });
    const before = index.evaluations;
    index.updateSelector('g3', parseSelector('group == "g3" && !has(own-3)'));
    assert.equal(index.evaluations - before, 100);
    assert.equal(index.matchesOf('g3').size, 99);
    const before2 = index.evaluations;
    index.updateLabels('epNew', { unrelated: 'y' });
    assert.equal(index.evaluations - before2, 0, 'no selector can match an item without its required label');
  });

  it('agrees with the naive evaluator over random update sequences', () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const keys = ['a', 'b', 'c', 'd'];
    const values = ['1', '2', '3'];
    const selectorTexts = [
      'all()',
      'has(a)',
      '!has(b)',
      'a == "1"',
      'a != "2"',
      'b in {"1", "3"}',
      'c not in {"2"}',
      'd starts with "1"',
      'a == "1" && b == "2"',
      'a == "3" || !has(c)',
      '!(has(a) && has(b)) || d == "2"',
      'c contains "3" && d in {"1"}',
    ];
    const current = new Map<string, Set<string>>();
    const index = new LabelIndex<string, string>({
      onMatchStarted: (s, i) => {
        const set = current.get(s) ?? new Set();
        assert.ok(!set.has(i), `duplicate start ${s}:${i}`);
        set.add(i);
        current.set(s, set);
      },
      onMatchStopped: (s, i) => {
        assert.ok(current.get(s)?.delete(i), `stop without start ${s}:${i}`);
      },
    });
    const items = new Map<string, Labels>();
    const sels = new Map<string, string>();
    for (let step = 0; step < 3000; step++) {
      const r = rand(10);
      if (r < 5) {
        const id = `i${rand(30)}`;
        const labels: Record<string, string> = {};
        for (const k of keys) if (rand(2) === 0) labels[k] = values[rand(values.length)] ?? '1';
        items.set(id, labels);
        index.updateLabels(id, labels);
      } else if (r < 6) {
        const id = `i${rand(30)}`;
        items.delete(id);
        index.deleteLabels(id);
      } else if (r < 9) {
        const id = `s${rand(8)}`;
        const text = selectorTexts[rand(selectorTexts.length)] ?? 'all()';
        sels.set(id, text);
        index.updateSelector(id, parseSelector(text));
      } else {
        const id = `s${rand(8)}`;
        sels.delete(id);
        index.deleteSelector(id);
      }
      for (const [sid, text] of sels) {
        const expected = [...items]
          .filter(([, l]) => matchSelector(parseSelector(text), l))
          .map(([i]) => i)
          .sort();
        assert.deepEqual([...index.matchesOf(sid)].sort(), expected, `step ${step} selector ${text}`);
        assert.deepEqual([...(current.get(sid) ?? [])].sort(), expected);
      }
    }
  });
});
