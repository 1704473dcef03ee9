import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kernelCidr } from './kernel-cidr.js';
import { parseIpsetSave } from './ipset-save-parser.js';

describe('kernelCidr', () => {
  it('prints host prefixes without the prefix, as ipset and ip do', () => {
    assert.equal(kernelCidr('198.18.0.5/32')?.printed, '198.18.0.5');
    assert.equal(kernelCidr('198.18.0.5')?.full, '198.18.0.5/32');
    assert.equal(kernelCidr('2001:db8::5/128')?.printed, '2001:db8::5');
    assert.equal(kernelCidr('198.18.1.0/24')?.printed, '198.18.1.0/24');
  });

  it('clears host bits and canonicalises IPv6 like glibc inet_ntop', () => {
    assert.equal(kernelCidr('198.18.1.77/24')?.printed, '198.18.1.0/24');
    assert.equal(kernelCidr('2001:DB8:0:0:0:0:0:5/128')?.printed, '2001:db8::5');
    assert.equal(kernelCidr('2001:db8:0:1:0:0:0:0/64')?.printed, '2001:db8:0:1::/64');
    assert.equal(kernelCidr('2001:db8:0:1:1:0:0:1')?.printed, '2001:db8:0:1:1::1');
    assert.equal(kernelCidr('2001:db8:0:1:1:1:1:1')?.printed, '2001:db8:0:1:1:1:1:1');
    assert.equal(kernelCidr('::ffff:198.18.0.1')?.printed, '::ffff:198.18.0.1');
    assert.equal(kernelCidr('::1')?.printed, '::1');
    assert.equal(kernelCidr('::2')?.printed, '::2');
    assert.equal(kernelCidr('::198.18.0.1')?.printed, '::198.18.0.1');
    assert.equal(kernelCidr('2001:db8:0:0:1:0:0:1')?.printed, '2001:db8::1:0:0:1');
    assert.equal(kernelCidr('2001:0:0:1:0:0:0:1')?.printed, '2001:0:0:1::1');
    assert.equal(kernelCidr('::')?.printed, '::');
    assert.equal(kernelCidr('1::')?.printed, '1::');
    assert.equal(kernelCidr('::/0')?.printed, '::/0');
    assert.equal(kernelCidr('2001:db8::/33')?.printed, '2001:db8::/33');
    assert.equal(kernelCidr('2001:db8:ffff::/33')?.printed, '2001:db8:8000::/33');
  });

  it('rejects malformed input', () => {
    for (const bad of [
      '',
      '198.18.0',
      '198.18.0.256',
      '198.18.00.1',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      '1:2:3:4:5:6:7::8',
      'g::1',
      '198.18.0.5/33',
      '2001:db8::/129',
      'fe80::1%eth0',
      '198.18.0.5/x',
      'tap1',
    ]) {
      assert.equal(kernelCidr(bad), undefined, bad);
    }
  });
});

describe('parseIpsetSave', () => {
  it('keeps owned sets only, with metadata and printed members', () => {
    const text = [
      'create cali40a hash:net family inet hashsize 1024 maxelem 1048576 bucketsize 12 initval 0x1',
      'add cali40a 198.18.0.5',
      'add cali40a 198.18.1.0/24',
      'create other-set hash:ip family inet hashsize 1024 maxelem 65536',
      'add other-set 198.18.0.9',
      'create cali40t hash:net family inet hashsize 1024 maxelem 65536 timeout 100 counters comment bucketsize 12 initval 0x2',
      'add cali40t 198.18.2.0/24 timeout 99 nomatch packets 0 bytes 0',
      '',
    ].join('\n');
    const sets = parseIpsetSave(text);
    assert.deepEqual([...sets.keys()], ['cali40a', 'cali40t']);
    const a = sets.get('cali40a')!;
    assert.deepEqual(
      { ...a, members: [...a.members] },
      { type: 'hash:net', family: 'inet', maxelem: 1048576, plain: true, members: ['198.18.0.5', '198.18.1.0/24'] },
    );
    const t = sets.get('cali40t')!;
    assert.equal(t.plain, false);
    assert.equal(t.maxelem, 65536);
    assert.deepEqual([...t.members], ['198.18.2.0/24 timeout 99 nomatch packets 0 bytes 0']);
  });
});
