import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapStatistics } from 'node:v8';
import { limitHeapGrowth } from './heap-growth.js';

describe('limitHeapGrowth', () => {
  it('takes a positive whole percentage and refuses anything else', () => {
    assert.throws(() => limitHeapGrowth(0), RangeError);
    assert.throws(() => limitHeapGrowth(1.5), RangeError);
    limitHeapGrowth(400);
    assert.ok(getHeapStatistics().total_heap_size > 0);
  });
});
