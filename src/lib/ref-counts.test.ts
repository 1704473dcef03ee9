import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addRef, dropRef } from './ref-counts.js';

describe('ref counts (pure)', () => {
  it('says when a key comes into use and when its last reference goes', () => {
    const counts = new Map<string, number>();
    assert.equal(addRef(counts, 'a'), true);
    assert.equal(addRef(counts, 'a'), false);
    assert.equal(dropRef(counts, 'a'), false);
    assert.equal(counts.get('a'), 1);
    assert.equal(dropRef(counts, 'a'), true);
    assert.equal(counts.has('a'), false);
    assert.equal(dropRef(counts, 'never'), true, 'dropping an unknown key counts as its last');
    assert.equal(counts.size, 0);
  });
});
