import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { collectGarbage } from './collect-garbage.js';

describe('collectGarbage', () => {
  it('frees what nothing holds', () => {
    const holder: { junk?: object[] } = { junk: Array.from({ length: 300_000 }, (_, i) => ({ i, s: `junk ${i}` })) };
    assert.equal(holder.junk?.length, 300_000);
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    delete holder.junk;
    collectGarbage();
    const after = process.memoryUsage().heapUsed;
    assert.ok(before - after > 10 * 2 ** 20, `freed ${((before - after) / 2 ** 20).toFixed(1)} MiB`);
  });
});
