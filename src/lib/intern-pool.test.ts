import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InternPool, StringCache } from './intern-pool.js';

describe('InternPool', () => {
  it('shares one copy per string and lets it go with its last reference', () => {
    const pool = new InternPool();
    const a = pool.take(['counter', 'drop'].join(' '));
    const b = pool.take('counter drop');
    assert.equal(a, 'counter drop');
    assert.equal(b, a);
    assert.equal(pool.size, 1);
    pool.drop('counter drop');
    assert.equal(pool.size, 1, 'one reference left');
    pool.drop('counter drop');
    assert.equal(pool.size, 0);
    pool.drop('never taken');
    assert.equal(pool.size, 0);
  });
});

describe('StringCache', () => {
  it('returns equal strings, and starts again past its limit', () => {
    const cache = new StringCache(2);
    assert.equal(cache.get('a1'), 'a1');
    cache.get('a2');
    assert.equal(cache.size, 2);
    assert.equal(cache.get('a3'), 'a3');
    assert.equal(cache.size, 1);
  });
});
