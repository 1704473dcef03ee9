import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseLinkLine } from './dhcp-service.js';

describe('parseLinkLine (ip -o monitor link, as iproute2 6.1 prints it)', () => {
  it('reads a new or changed link, and a deleted one', () => {
    assert.deepEqual(
      parseLinkLine('3: tapzz@peerzz: <BROADCAST,MULTICAST,M-DOWN> mtu 1400 qdisc noop state DOWN group default \\    link/ether 7a:14:20:e4:74:01'),
      { name: 'tapzz', mtu: 1400, deleted: false },
    );
    assert.deepEqual(parseLinkLine('Deleted 3: tapzz@NONE: <BROADCAST,MULTICAST> mtu 1300 qdisc noop state DOWN group default'), {
      name: 'tapzz',
      mtu: 1300,
      deleted: true,
    });
    assert.deepEqual(parseLinkLine('12: tapabc: <BROADCAST,UP,LOWER_UP> mtu 9000 qdisc fq_codel state UP'), { name: 'tapabc', mtu: 9000, deleted: false });
    assert.equal(parseLinkLine('garbage'), undefined);
  });
});
