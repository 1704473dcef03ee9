import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseLinkEvent } from './parse-link-event.js';

// Lines as `ip -o monitor link` (iproute2 6.1) printed them for a veth made, set up, renamed and deleted.
const LINES = {
  made: '3: tapq1@pq1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default \\    link/ether 02:6d:4f:6d:75:11 brd ff:ff:ff:ff:ff:ff',
  noCarrier:
    '3: tapq1@pq1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default \\    link/ether 02:6d:4f:6d:75:11 brd ff:ff:ff:ff:ff:ff',
  up: '3: tapq1@pq1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \\    link/ether 02:6d:4f:6d:75:11 brd ff:ff:ff:ff:ff:ff',
  renamed: '3: tapq2@pq1: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether 02:6d:4f:6d:75:11 brd ff:ff:ff:ff:ff:ff',
  deleted: 'Deleted 3: tapq2@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \\    link/ether 02:6d:4f:6d:75:11 brd ff:ff:ff:ff:ff:ff',
  tun: '7: tap9: <POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UNKNOWN group default qlen 500 \\    link/none ',
};

describe('parseLinkEvent (pure)', () => {
  it('reads index, name without its peer, up (UP and LOWER_UP) and the MAC', () => {
    assert.deepEqual(parseLinkEvent(LINES.made), { deleted: false, index: 3, name: 'tapq1', up: false, mac: '02:6d:4f:6d:75:11' });
    assert.equal(parseLinkEvent(LINES.noCarrier)?.up, false, 'admin up without carrier is not up');
    assert.equal(parseLinkEvent(LINES.up)?.up, true);
    assert.equal(parseLinkEvent(LINES.renamed)?.name, 'tapq2');
  });

  it('marks deletions and reads links without an ether address', () => {
    assert.deepEqual(parseLinkEvent(LINES.deleted), { deleted: true, index: 3, name: 'tapq2', up: false, mac: '02:6d:4f:6d:75:11' });
    assert.deepEqual(parseLinkEvent(LINES.tun), { deleted: false, index: 7, name: 'tap9', up: true, mac: '' });
  });

  it('returns undefined for what it does not understand', () => {
    for (const l of ['', 'garbage', '3 tapq1: <UP>', 'Deleted: tapq1', '3: tapq1: no flags here']) assert.equal(parseLinkEvent(l), undefined, l);
  });
});
