import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSelector } from '../../model/index.js';
import { IpSetMembers } from './ipset-members.js';

const web = parseSelector('has(web)');

describe('IpSetMembers', () => {
  it('announces a set whole once, then only deltas; an address shared by two endpoints stays until both go', () => {
    const m = new IpSetMembers();
    m.updateEndpoint('a', { web: '' }, ['198.18.0.1/32']);
    m.updateEndpoint('b', { db: '' }, ['198.18.0.2/32']);
    m.ref('s1', web);
    let f = m.flush();
    assert.deepEqual(f.ipSets.get('s1'), ['198.18.0.1/32']);
    assert.equal(f.ipSetDeltas.size, 0);
    m.updateEndpoint('b', { db: '', web: '' }, ['198.18.0.2/32']);
    m.updateEndpoint('c', { web: '' }, ['198.18.0.1/32']);
    f = m.flush();
    assert.equal(f.ipSets.size, 0);
    assert.deepEqual(f.ipSetDeltas.get('s1'), { added: ['198.18.0.2/32'], removed: [] });
    m.removeEndpoint('a');
    assert.equal(m.flush().ipSetDeltas.size, 0, 'c still has 198.18.0.1');
    m.removeEndpoint('c');
    assert.deepEqual(m.flush().ipSetDeltas.get('s1'), { added: [], removed: ['198.18.0.1/32'] });
  });

  it("moves a matching endpoint's members when its addresses change", () => {
    const m = new IpSetMembers();
    m.ref('s1', web);
    m.updateEndpoint('a', { web: '' }, ['198.18.0.1/32']);
    m.flush();
    m.updateEndpoint('a', { web: '' }, ['198.18.0.9/32', '2001:db8::9/128']);
    assert.deepEqual(m.flush().ipSetDeltas.get('s1'), { added: ['198.18.0.9/32', '2001:db8::9/128'], removed: ['198.18.0.1/32'] });
    assert.deepEqual(m.members('s1'), ['198.18.0.9/32', '2001:db8::9/128']);
  });

  it('keeps a set while any rule refers to it; never announces one taken and dropped between flushes', () => {
    const m = new IpSetMembers();
    m.ref('s1', web);
    m.ref('s1', web);
    m.flush();
    m.unref('s1');
    assert.equal(m.flush().ipSets.size, 0, 'one reference left');
    m.unref('s1');
    assert.deepEqual([...m.flush().ipSets], [['s1', undefined]]);
    m.ref('s2', web);
    m.unref('s2');
    const f = m.flush();
    assert.equal(f.ipSets.size + f.ipSetDeltas.size, 0);
    assert.deepEqual(m.stats, { endpoints: 0, sets: 0 });
  });

  it('re-sends a set whole when it is dropped and taken again in one batch', () => {
    const m = new IpSetMembers();
    m.updateEndpoint('a', { web: '' }, ['198.18.0.1/32']);
    m.ref('s1', web);
    m.flush();
    m.unref('s1');
    m.ref('s1', web);
    const f = m.flush();
    assert.deepEqual(f.ipSets.get('s1'), ['198.18.0.1/32']);
  });
});
