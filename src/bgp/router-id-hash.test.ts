import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareIps } from './compare-ips.js';
import { routerIdHash } from './router-id-hash.js';

describe('routerIdHash', () => {
  it('is the 32-bit FNV-1 hash of the name, big-endian', () => {
    assert.equal(routerIdHash(''), '129.28.157.197'); // offset basis 0x811c9dc5
    assert.equal(routerIdHash('a'), '5.12.93.126'); // 0x050c5d7e
    assert.equal(routerIdHash('v6-a'), routerIdHash('v6-a'));
    assert.notEqual(routerIdHash('v6-a'), routerIdHash('v6-b'));
  });
});

describe('compareIps', () => {
  it('compares numerically, not as strings', () => {
    assert.ok(compareIps('10.0.0.10', '10.0.0.9') > 0);
    assert.ok(compareIps('9.0.0.1', '10.0.0.1') < 0);
    assert.ok(compareIps('fd00::10', 'fd00::9') > 0);
    assert.ok(compareIps('fd00::a', 'fd00::10') < 0);
    assert.ok(compareIps('255.255.255.255', '::1') < 0);
    assert.equal(compareIps('fd00::1', 'fd00:0::1'), 0);
  });
});
