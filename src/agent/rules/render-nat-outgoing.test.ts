import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renderNatOutgoing } from './render-nat-outgoing.js';

describe('renderNatOutgoing', () => {
  it('is empty without a masquerading pool', () => {
    assert.deepEqual(renderNatOutgoing(4, false), { name: 'cali-nat-outgoing', rules: [] });
  });
  it('masquerades from masquerading pools to anything outside every pool, per family', () => {
    assert.deepEqual(renderNatOutgoing(4, true).rules, [
      { match: '-m set --match-set cali40masq-ipam-pools src -m set ! --match-set cali40all-ipam-pools dst', action: '-j MASQUERADE --random-fully' },
    ]);
    assert.match(renderNatOutgoing(6, true).rules[0]?.match ?? '', /cali60masq-ipam-pools src .* ! --match-set cali60all-ipam-pools dst/);
  });
});
