import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatMatrix, runMatrix, type MatrixCheck } from './connectivity-matrix.js';

describe('connectivity matrix (pure)', () => {
  it('runs checks with bounded concurrency, in order, and counts a throwing probe as a mismatch', async () => {
    let running = 0;
    let peak = 0;
    const checks: MatrixCheck[] = [
      { from: 'a', to: 'b', kind: 'ping', expect: true },
      { from: 'a', to: 'b', kind: 'tcp', port: 22, expect: false },
      { from: 'b', to: 'a', kind: 'udp', port: 53, expect: true },
      { from: 'b', to: 'c', kind: 'tcp', port: 80, expect: true },
    ];
    const results = await runMatrix(
      checks,
      async (c) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        if (c.to === 'c') throw new Error('no such VM');
        return c.kind !== 'udp';
      },
      { concurrency: 2 },
    );
    assert.equal(peak, 2);
    assert.deepEqual(
      results.map((r) => [r.from, r.to, r.kind, r.actual, r.ok]),
      [
        ['a', 'b', 'ping', true, true],
        ['a', 'b', 'tcp', true, false],
        ['b', 'a', 'udp', false, false],
        ['b', 'c', 'tcp', false, false],
      ],
    );
    assert.equal(results[3]?.error, 'no such VM');
  });

  it('prints rows per source, columns per destination (sources first, in row order), ! on mismatches, the mismatches and a summary', () => {
    const table = formatMatrix([
      { from: 'web1', to: 'db1', kind: 'ping', expect: true, actual: true, ok: true },
      { from: 'web1', to: 'db1', kind: 'tcp', port: 5432, expect: true, actual: false, ok: false },
      { from: 'web1', to: 'host', kind: 'tcp', port: 22, expect: false, actual: false, ok: true },
      { from: 'db1', to: 'web1', kind: 'udp', port: 53, expect: false, actual: true, ok: false },
      { from: 'db1', to: 'host', kind: 'ping', expect: true, actual: false, ok: false, error: 'Responder did not start' },
    ]);
    assert.equal(
      table,
      [
        'from \\ to  web1       db1                 host',
        'web1       -          ping ✓ tcp:5432 ✗!  tcp:22 ✗',
        'db1        udp:53 ✓!  -                   ping ✗!',
        '',
        '! web1 -> db1 tcp:5432: expected ✓, got ✗',
        '! db1 -> web1 udp:53: expected ✗, got ✓',
        '! db1 -> host ping: expected ✓, probe failed: Responder did not start',
        '',
        '2 of 5 as expected (✓ answered, ✗ no answer, ! not as expected)',
        '',
      ].join('\n'),
    );
  });

  it('prints an empty run as 0 of 0', () => {
    assert.match(formatMatrix([]), /0 of 0 as expected/);
  });
});
