import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DATAPLANE_CONFIG } from '../config.js';
import { renderDispatchChains } from './render-dispatch.js';
import { ruleLines } from './testing/index.js';

const UNKNOWN = '-j DROP # Unknown interface';

function render(ifaces: string[]): Record<string, string[]> {
  return Object.fromEntries(renderDispatchChains(ifaces, DEFAULT_DATAPLANE_CONFIG).map((c) => [c.name, ruleLines(c.rules)]));
}

describe('renderDispatchChains', () => {
  it('no interfaces: the roots only drop', () => {
    assert.deepEqual(render([]), { 'cali-from-wl-dispatch': [UNKNOWN], 'cali-to-wl-dispatch': [UNKNOWN] });
  });

  it('one interface: a direct goto in each root', () => {
    assert.deepEqual(render(['tapabcdef01-23']), {
      'cali-from-wl-dispatch': ['-i tapabcdef01-23 -g cali-fw-tapabcdef01-23', UNKNOWN],
      'cali-to-wl-dispatch': ['-o tapabcdef01-23 -g cali-tw-tapabcdef01-23', UNKNOWN],
    });
  });

  it('two interfaces differing after the common prefix: two direct gotos, sorted', () => {
    assert.deepEqual(render(['tap2b', 'tap1a', 'tap2b']), {
      'cali-from-wl-dispatch': ['-i tap1a -g cali-fw-tap1a', '-i tap2b -g cali-fw-tap2b', UNKNOWN],
      'cali-to-wl-dispatch': ['-o tap1a -g cali-tw-tap1a', '-o tap2b -g cali-tw-tap2b', UNKNOWN],
    });
  });

  it('a name that is the common prefix of another gets its own bin', () => {
    assert.deepEqual(render(['tap1', 'tap12', 'tap13'])['cali-from-wl-dispatch'], [
      '-i tap1 -g cali-fw-tap1',
      '-i tap12 -g cali-fw-tap12',
      '-i tap13 -g cali-fw-tap13',
      UNKNOWN,
    ]);
  });

  it('20 Neutron-style interfaces: one child chain per shared next character', () => {
    const hex = '0123456789abcdef';
    // tap0…, tap1…, …, tapf… (16) plus four more starting tap0, tap1, tap2, tap2.
    const ifaces = [...hex].map((c) => `tap${c}0000000-00`);
    ifaces.push('tap0aaaaaaa-00', 'tap1bbbbbbb-00', 'tap2ccccccc-00', 'tap2ddddddd-00');
    const chains = renderDispatchChains([...ifaces].reverse(), DEFAULT_DATAPLANE_CONFIG);
    const byName = Object.fromEntries(chains.map((c) => [c.name, ruleLines(c.rules)]));
    assert.deepEqual(
      chains.map((c) => c.name),
      [
        'cali-from-wl-dispatch-0',
        'cali-from-wl-dispatch-1',
        'cali-from-wl-dispatch-2',
        'cali-from-wl-dispatch',
        'cali-to-wl-dispatch-0',
        'cali-to-wl-dispatch-1',
        'cali-to-wl-dispatch-2',
        'cali-to-wl-dispatch',
      ],
    );
    assert.deepEqual(byName['cali-from-wl-dispatch-2'], [
      '-i tap20000000-00 -g cali-fw-tap20000000-00',
      '-i tap2ccccccc-00 -g cali-fw-tap2ccccccc-00',
      '-i tap2ddddddd-00 -g cali-fw-tap2ddddddd-00',
      UNKNOWN,
    ]);
    assert.deepEqual(byName['cali-to-wl-dispatch-0'], ['-o tap00000000-00 -g cali-tw-tap00000000-00', '-o tap0aaaaaaa-00 -g cali-tw-tap0aaaaaaa-00', UNKNOWN]);
    const root = byName['cali-from-wl-dispatch'] ?? [];
    assert.deepEqual(root.slice(0, 4), [
      '-i tap0+ -g cali-from-wl-dispatch-0',
      '-i tap1+ -g cali-from-wl-dispatch-1',
      '-i tap2+ -g cali-from-wl-dispatch-2',
      '-i tap30000000-00 -g cali-fw-tap30000000-00',
    ]);
    assert.equal(root.length, 16 + 1);
    assert.equal(root[root.length - 1], UNKNOWN);
    // Every interface is reachable exactly once through the tree.
    const leaves = chains.flatMap((c) => c.rules).filter((r) => r.action.startsWith('-g cali-fw-'));
    assert.deepEqual(leaves.map((r) => r.match).sort(), ifaces.map((i) => `-i ${i}`).sort());
  });

  it('a longer common prefix: bins on the character after it', () => {
    const got = render(['tapab1', 'tapab2', 'tapab3']);
    assert.deepEqual(got['cali-from-wl-dispatch'], ['-i tapab1 -g cali-fw-tapab1', '-i tapab2 -g cali-fw-tapab2', '-i tapab3 -g cali-fw-tapab3', UNKNOWN]);
  });

  it('is deterministic regardless of input order', () => {
    const a = renderDispatchChains(['tap3', 'tap1x', 'tap1y', 'tap2'], DEFAULT_DATAPLANE_CONFIG);
    const b = renderDispatchChains(['tap1y', 'tap2', 'tap3', 'tap1x'], DEFAULT_DATAPLANE_CONFIG);
    assert.deepEqual(a, b);
  });

  it('thousands of taps: bins split again so no chain exceeds 17 rules, and every tap still reaches its chain', () => {
    const names = Array.from(
      { length: 3000 },
      (_, i) => `tap${createHash('sha256').update(String(i)).digest('hex').slice(0, 8)}-${String(i % 100).padStart(2, '0')}`,
    );
    const chains = renderDispatchChains(names, DEFAULT_DATAPLANE_CONFIG);
    const byName = new Map(chains.map((c) => [c.name, c]));
    for (const c of chains) {
      assert.ok(c.rules.length <= 17, `${c.name} has ${c.rules.length} rules`);
      assert.ok(c.name.length <= 28, c.name);
      assert.equal(c.rules.at(-1)?.action, '-j DROP', `${c.name} ends in DROP`);
    }
    // Follow the gotos the way the kernel does (`-i x+` is a prefix match) for a packet on `iface`.
    const walk = (iface: string): { target: string; rules: number } => {
      let chain = byName.get('cali-from-wl-dispatch');
      let rules = 0;
      for (;;) {
        assert.ok(chain !== undefined);
        let next: string | undefined;
        for (const r of chain.rules) {
          rules++;
          const m = /^-i (\S+)$/.exec(r.match);
          const hit = r.match === '' || (m?.[1] !== undefined && (m[1].endsWith('+') ? iface.startsWith(m[1].slice(0, -1)) : iface === m[1]));
          if (!hit) continue;
          next = r.action.replace(/^-[gj] /, '');
          break;
        }
        if (next === undefined || !next.startsWith('cali-from-wl-dispatch')) return { target: next ?? '', rules };
        chain = byName.get(next);
      }
    };
    let worst = 0;
    for (const n of names) {
      const w = walk(n);
      assert.equal(w.target, `cali-fw-${n}`);
      worst = Math.max(worst, w.rules);
    }
    assert.ok(worst <= 60, `a packet walks at most ${worst} rules`);
    assert.equal(walk('tapffffffff-zz').target, 'DROP', 'an unknown tap is dropped');
  });
});
