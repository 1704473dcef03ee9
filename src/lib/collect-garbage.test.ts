import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { collectGarbage } from './collect-garbage.js';

describe('collectGarbage', () => {
  it('frees what nothing holds', () => {
    let junk: object[] | undefined = Array.from({ length: 300_000 }, (_, i) => ({ i, s: `junk ${i}` }));
    assert.equal(junk.length, 300_000);
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    junk = undefined;
    collectGarbage();
    const after = process.memoryUsage().heapUsed;
    assert.ok(before - after > 10 * 2 ** 20, `freed ${((before - after) / 2 ** 20).toFixed(1)} MiB`);
  });
});
