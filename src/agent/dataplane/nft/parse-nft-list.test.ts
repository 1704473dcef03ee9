import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseNftList } from './parse-nft-list.js';

// As nft 1.0.6 prints it (tabs), with the shapes our table has.
const listing = [
  'table ip brindle {',
  '\tset cali40s.a {',
  '\t\ttype ipv4_addr',
  '\t\tflags interval',
  '\t\telements = { 10.0.0.0/8, 198.18.0.0/24,',
  '\t\t\t     198.19.0.1 }',
  '\t}',
  '',
  '\tset cali40s.empty {',
  '\t\ttype ipv4_addr',
  '\t\tflags interval',
  '\t}',
  '',
  '\tset cali40s.merged {',
  '\t\ttype ipv4_addr',
  '\t\tflags interval',
  '\t\telements = { 10.0.0.1-10.0.0.5 }',
  '\t}',
  '',
  '\tmap cali-from-wl-dispatch-map {',
  '\t\ttype ifname : verdict',
  '\t\telements = { "tapabc" : goto cali-fw-tapabc,',
  '\t\t\t     "tapdown" : goto cali-fw-tapdown }',
  '\t}',
  '',
  '\tchain cali-fw-tapabc {',
  '\t\tip saddr @cali40s.a counter packets 0 bytes 0 meta mark set meta mark | 0x00010000 comment "cali:abc"',
  '\t\tcounter packets 3 bytes 180 drop',
  '\t}',
  '',
  '\tchain cali-empty {',
  '\t}',
  '',
  '\tchain filter.FORWARD {',
  '\t\ttype filter hook forward priority filter; policy accept;',
  '\t\tjump cali-FORWARD comment "cali:f1"',
  '\t}',
  '',
  '\tchain nat.PREROUTING {',
  '\t\ttype nat hook prerouting priority dstnat; policy accept;',
  '\t}',
  '}',
  '',
].join('\n');

describe('parseNftList: the text listing of our table', () => {
  it('reads rule ids per chain (a rule without ours reads as ""), hooks, set elements and map entries', () => {
    const v = parseNftList(listing);
    assert.deepEqual(v.chains.get('cali-fw-tapabc'), ['abc', '']);
    assert.deepEqual(v.chains.get('cali-empty'), []);
    assert.deepEqual(v.chains.get('filter.FORWARD'), ['f1']);
    assert.equal(v.hooks.get('filter.FORWARD'), 'filter/forward/0');
    assert.equal(v.hooks.get('nat.PREROUTING'), 'nat/prerouting/-100');
    assert.equal(v.hooks.has('cali-fw-tapabc'), false);
    assert.deepEqual([...(v.sets.get('cali40s.a') ?? [])], ['10.0.0.0/8', '198.18.0.0/24', '198.19.0.1']);
    assert.deepEqual([...(v.sets.get('cali40s.empty') ?? [])], []);
    assert.deepEqual([...(v.sets.get('cali40s.merged') ?? [])], ['?range']);
    assert.deepEqual([...v.intervalSets].sort(), ['cali40s.a', 'cali40s.empty', 'cali40s.merged']);
    assert.equal(v.maps.get('cali-from-wl-dispatch-map')?.get('tapabc'), 'goto cali-fw-tapabc');
    assert.equal(v.maps.get('cali-from-wl-dispatch-map')?.get('tapdown'), 'goto cali-fw-tapdown');
  });
  it('reads IPv6 elements as they are', () => {
    const v = parseNftList(
      'table ip6 brindle {\n\tset cali60s.a {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\telements = { 2001:db8::9, 2001:db8:1::/64 }\n\t}\n\tset cali60s.h {\n\t\ttype ipv6_addr\n\t\telements = { 2001:db8::9 }\n\t}\n}\n',
    );
    assert.deepEqual([...(v.sets.get('cali60s.a') ?? [])], ['2001:db8::9', '2001:db8:1::/64']);
    assert.deepEqual([...(v.sets.get('cali60s.h') ?? [])], ['2001:db8::9']);
    assert.deepEqual([...v.intervalSets], ['cali60s.a'], 'a set of addresses only is a hash set');
  });
});
