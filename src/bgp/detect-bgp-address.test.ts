import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { netnsExec, realExec } from '../lib/index.js';
import { makeTestNetns, type TestNetns } from '../lib/testing.js';
import { detectBgpAddresses } from './detect-bgp-address.js';
import { BgpAddressNotFoundError } from './errors.js';

// Real `ip` in a namespace of its own: a "host" with eth0 (the default route's) and eth1.

describe('detectBgpAddresses (real ip, in a test namespace)', () => {
  let ns: TestNetns;
  let peer: TestNetns;

  before(async () => {
    ns = await makeTestNetns('brdet');
    peer = await makeTestNetns('brdep');
    await realExec().run('ip', ['link', 'add', 'eth0', 'netns', ns.name, 'type', 'veth', 'peer', 'name', 'p0', 'netns', peer.name]);
    await realExec().run('ip', ['link', 'add', 'eth1', 'netns', ns.name, 'type', 'veth', 'peer', 'name', 'p1', 'netns', peer.name]);
    for (const l of ['eth0', 'eth1']) await ns.must('ip', ['link', 'set', l, 'up']);
    await ns.must('ip', ['addr', 'add', '198.18.90.2/24', 'dev', 'eth0']);
    await ns.must('ip', ['-6', 'addr', 'add', '2001:db8:90::2/64', 'dev', 'eth0', 'nodad']);
    await ns.must('ip', ['addr', 'add', '198.18.91.2/24', 'dev', 'eth1']);
  });

  after(async () => {
    await ns?.remove();
    await peer?.remove();
  });

  it('finds nothing without a default route, and says how to fix it', async () => {
    await assert.rejects(detectBgpAddresses(netnsExec(realExec(), ns.name)), BgpAddressNotFoundError);
  });

  it('takes the global addresses of the interface holding the default route', async () => {
    await ns.must('ip', ['route', 'add', 'default', 'via', '198.18.90.1']);
    await ns.must('ip', ['-6', 'route', 'add', 'default', 'via', '2001:db8:90::1']);
    assert.deepEqual(await detectBgpAddresses(netnsExec(realExec(), ns.name)), { ipv4: '198.18.90.2/24', ipv6: '2001:db8:90::2/64', iface: 'eth0' });
  });

  it('or those of the interface named', async () => {
    assert.deepEqual(await detectBgpAddresses(netnsExec(realExec(), ns.name), 'eth1'), { ipv4: '198.18.91.2/24', iface: 'eth1' });
    await assert.rejects(detectBgpAddresses(netnsExec(realExec(), ns.name), 'lo'), /interface lo has no global address/);
  });
});
