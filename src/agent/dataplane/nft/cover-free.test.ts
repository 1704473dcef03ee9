import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { coverFree } from './cover-free.js';

describe('coverFree: members an interval set can hold', () => {
  it('drops members covered by another, keeps the union of addresses', () => {
    assert.deepEqual([...coverFree(['198.18.0.1', '198.18.0.0/24', '10.0.0.0/8', '10.1.0.0/16', '198.19.0.1/32'])].sort(), [
      '10.0.0.0/8',
      '198.18.0.0/24',
      '198.19.0.1',
    ]);
  });
  it('normalises host bits, /32 and IPv6 text; duplicates count once; bad members are left out', () => {
    assert.deepEqual([...coverFree(['198.18.0.7/24', '198.18.0.0/24', '2001:DB8:0:0::1/128', 'nonsense'])].sort(), ['198.18.0.0/24', '2001:db8::1']);
  });
  it('does not mix families', () => {
    assert.deepEqual([...coverFree(['0.0.0.0/0', '2001:db8::1'])].sort(), ['0.0.0.0/0', '2001:db8::1']);
  });
});
