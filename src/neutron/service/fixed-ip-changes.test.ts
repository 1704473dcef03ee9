import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixedIpChanges } from './fixed-ip-changes.js';

const held = [
  { subnet_id: 's4', ip_address: '198.18.60.5' },
  { subnet_id: 's4', ip_address: '198.18.60.6' },
  { subnet_id: 's6', ip_address: '2001:db8:60::5' },
];

describe('fixedIpChanges (pure)', () => {
  it('keeps a named address the port holds and a held address on a subnet-only entry; releases the rest', () => {
    const r = fixedIpChanges(held, [{ ip_address: '198.18.60.6' }, { subnet_id: 's6' }]);
    assert.deepEqual(
      r.kept.map((k) => k.ip_address),
      ['198.18.60.6', '2001:db8:60::5'],
    );
    assert.ok(r.kept.every((k) => k.requested));
    assert.deepEqual(r.wanted, []);
    assert.deepEqual(
      r.released.map((k) => k.ip_address),
      ['198.18.60.5'],
    );
  });

  it('a held address satisfies one request only; a named address on another subnet is wanted anew', () => {
    const r = fixedIpChanges(held, [{ subnet_id: 's4' }, { subnet_id: 's4' }, { subnet_id: 's4' }, { subnet_id: 's6', ip_address: '198.18.60.5' }]);
    assert.deepEqual(
      r.kept.map((k) => k.ip_address),
      ['198.18.60.5', '198.18.60.6'],
    );
    assert.deepEqual(r.wanted, [{ subnet_id: 's4' }, { subnet_id: 's6', ip_address: '198.18.60.5' }]);
    assert.deepEqual(
      r.released.map((k) => k.ip_address),
      ['2001:db8:60::5'],
    );
  });

  it('an empty list releases everything', () => {
    assert.deepEqual(fixedIpChanges(held, []).released.length, 3);
  });
});
