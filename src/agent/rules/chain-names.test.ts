import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { endpointChainNames, ipSetName, lengthLimitedName, policyChainName } from './chain-names.js';

// Expected hashes computed independently (Python: base64url(sha256(suffix)) without padding).
const SG = 'default/ossg.default.5f2b7c1e-6a3d-4e0b-9c41-2f7e8d9a0b1c';

describe('lengthLimitedName', () => {
  const cases: [string, string, string, string][] = [
    ['short suffix kept', 'cali-tw-', 'tap1', 'cali-tw-tap1'],
    ['exactly 28 kept', 'cali-tw-', 'tapabcdef01-23456789', 'cali-tw-tapabcdef01-23456789'],
    ['29 hashed', 'cali-tw-', 'tapabcdef01-234567890', 'cali-tw-_YgBA4By2yEPCiMrUDkh'],
    ['exactly 28 starting with _ hashed', 'cali-tw-', '_abcdefghijklmnopqrs', 'cali-tw-_9ym1uSjbAKyRLKe7BPq'],
    ['shorter starting with _ kept (cannot clash: hashed names are 28 long)', 'cali-tw-', '_abc', 'cali-tw-_abc'],
    ['long policy suffix hashed', 'cali-pi-', SG, 'cali-pi-_OJAva1FX8-GuxRrTziJ'],
  ];
  for (const [name, prefix, suffix, want] of cases) {
    it(name, () => {
      const got = lengthLimitedName(prefix, suffix);
      assert.equal(got, want);
      assert.ok(got.length <= 28);
    });
  }
  it('the 28-character case really is 28 characters', () => {
    assert.equal(lengthLimitedName('cali-tw-', 'a'.repeat(20)).length, 28);
    assert.equal(lengthLimitedName('cali-tw-', 'a'.repeat(20)), `cali-tw-${'a'.repeat(20)}`);
  });
});

describe('policyChainName', () => {
  const cases: [string, 'ingress' | 'egress', string][] = [
    [`np/${SG}`, 'ingress', 'cali-pi-_OJAva1FX8-GuxRrTziJ'],
    [`np/${SG}`, 'egress', 'cali-po-_OJAva1FX8-GuxRrTziJ'],
    ['np/ns/p', 'ingress', 'cali-pi-ns/p'],
    ['gnp/allow-dns', 'egress', 'cali-po-allow-dns'],
    ['pro/openstack-sg-x', 'ingress', 'cali-pri-openstack-sg-x'],
    ['pro/openstack-sg-x', 'egress', 'cali-pro-openstack-sg-x'],
    ['pro/openstack-sg-very-long-profile-name', 'ingress', 'cali-pri-_teYcVzBID0bILrF9Ry'],
  ];
  for (const [id, dir, want] of cases) {
    it(`${id} ${dir}`, () => assert.equal(policyChainName(id, dir), want));
  }
  it('rejects ids of unknown kinds or without a name', () => {
    assert.throws(() => policyChainName('xx/a', 'ingress'), /unknown kind/);
    assert.throws(() => policyChainName('nokind', 'ingress'), /unknown kind/);
    assert.throws(() => policyChainName('np/', 'ingress'), /without a name/);
  });
});

describe('endpointChainNames', () => {
  it('prefixes the interface', () => {
    assert.deepEqual(endpointChainNames('tapabcdef01-23'), { to: 'cali-tw-tapabcdef01-23', from: 'cali-fw-tapabcdef01-23' });
  });
});

describe('ipSetName', () => {
  const cases: [string, 4 | 6, string][] = [
    ['all-hosts-net', 4, 'cali40all-hosts-net'],
    ['all-hosts-net', 6, 'cali60all-hosts-net'],
    ['s:7bzl4Qp9tCO6YPb-pZkmn2OxxxxxxxxxxxxX', 4, 'cali40s:7bzl4Qp9tCO6YPb-pZkmn2O'],
  ];
  for (const [id, family, want] of cases) {
    it(`${id} v${family}`, () => {
      assert.equal(ipSetName(id, family), want);
      assert.ok(ipSetName(id, family).length <= 31);
    });
  }
});
