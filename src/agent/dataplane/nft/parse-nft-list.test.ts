import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseNftList } from './parse-nft-list.js';

const listing = {
  nftables: [
    { metainfo: { version: '1.0.6' } },
    { table: { family: 'ip', name: 'brindle', handle: 3 } },
    { set: { family: 'ip', name: 'cali40s.a', table: 'brindle', type: 'ipv4_addr', flags: ['interval'], elem: [{ prefix: { addr: '10.0.0.0', len: 8 } }, '198.19.0.1'] } },
    { set: { family: 'ip', name: 'cali40s.empty', table: 'brindle', type: 'ipv4_addr' } },
    { map: { family: 'ip', name: 'cali-from-wl-dispatch-map', table: 'brindle', type: 'ifname', map: 'verdict', elem: [['tapabc', { goto: { target: 'cali-fw-tapabc' } }]] } },
    { chain: { family: 'ip', table: 'brindle', name: 'cali-fw-tapabc', handle: 1 } },
    { chain: { family: 'ip', table: 'brindle', name: 'filter.FORWARD', handle: 3, type: 'filter', hook: 'forward', prio: 0, policy: 'accept' } },
    { rule: { family: 'ip', table: 'brindle', chain: 'cali-fw-tapabc', handle: 8, comment: 'cali:abc', expr: [] } },
    { rule: { family: 'ip', table: 'brindle', chain: 'cali-fw-tapabc', handle: 9, expr: [] } },
  ],
};

describe('parseNftList', () => {
  it('reads rule ids per chain (a rule without ours reads as ""), hooks, set elements and map entries', () => {
    const v = parseNftList(JSON.stringify(listing));
    assert.deepEqual(v.chains.get('cali-fw-tapabc'), ['abc', '']);
    assert.deepEqual(v.chains.get('filter.FORWARD'), []);
    assert.equal(v.hooks.get('filter.FORWARD'), 'filter/forward/0');
    assert.equal(v.hooks.has('cali-fw-tapabc'), false);
    assert.deepEqual([...(v.sets.get('cali40s.a') ?? [])], ['10.0.0.0/8', '198.19.0.1']);
    assert.deepEqual([...(v.sets.get('cali40s.empty') ?? [])], []);
    assert.equal(v.maps.get('cali-from-wl-dispatch-map')?.get('tapabc'), 'goto cali-fw-tapabc');
  });
  it('refuses output that is not a listing', () => {
    assert.throws(() => parseNftList('{"x": 1}'));
  });
});
