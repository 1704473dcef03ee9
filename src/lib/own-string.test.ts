import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ownString } from './own-string.js';

describe('ownString', () => {
  it('returns an equal string, non-ASCII included', () => {
    const key = '/calico/resources/v3/projectcalico.org/workloadendpoints/openstack/h1-openstack-vm-é';
    const part = key.slice(key.lastIndexOf('/') + 1);
    assert.equal(ownString(`${part}/x`), `${part}/x`);
    assert.equal(ownString(''), '');
    assert.equal(ownString('a\ud800b'), 'a\ud800b', 'a lone surrogate is kept');
  });
});
