import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realExec, type Exec } from '../../../lib/index.js';
import { makeTestNetns, type TestNetns } from '../../../lib/testing.js';
import { netnsExec } from '../../../lib/index.js';
import { SysctlSpecError, SysctlWriteError } from './errors.js';
import { SysctlDriver } from './sysctl-driver.js';

describe('SysctlDriver (real sysctl in a netns)', () => {
  let ns: TestNetns;
  let exec: Exec;
  const calls: string[] = [];

  before(async () => {
    ns = await makeTestNetns('brk');
    const inner = netnsExec(realExec(), ns.name);
    exec = {
      spawn: (c, a, o) => inner.spawn(c, a, o),
      run: (c, a, o) => {
        calls.push([c, ...a].join(' '));
        return inner.run(c, a, o);
      },
    };
    for (const [tap, peer] of [
      ['tapt1', 'v1'],
      ['tap.d1', 'vd1'],
    ]) {
      await ns.must('ip', ['link', 'add', tap!, 'type', 'veth', 'peer', 'name', peer!]);
      await ns.must('ip', ['link', 'set', tap!, 'up']);
    }
  });
  after(async () => {
    await ns.remove();
  });

  const read = async (key: string): Promise<string> => (await ns.must('sysctl', ['-n', key])).trim();

  it('turns forwarding on globally', async () => {
    await ns.must('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=0', 'net.ipv6.conf.all.forwarding=0']);
    await new SysctlDriver({ exec }).configureGlobal();
    assert.equal(await read('net.ipv4.ip_forward'), '1');
    assert.equal(await read('net.ipv6.conf.all.forwarding'), '1');
  });

  it('configures a workload interface in one call, with the default rp_filter', async () => {
    const current = Number(await read('net/ipv4/conf/tapt1/rp_filter'));
    const wanted = current === 2 ? 1 : 2;
    await ns.must('sysctl', ['-q', '-w', `net.ipv4.conf.default.rp_filter=${wanted}`]);
    const driver = new SysctlDriver({ exec });
    const before = calls.length;
    await driver.configureIface('tapt1', { ipv6: true });
    assert.equal(calls.length - before, 2, 'one read of the default rp_filter, one write');
    const expected: [string, string][] = [
      ['net/ipv6/conf/tapt1/accept_ra', '0'],
      ['net/ipv4/conf/tapt1/route_localnet', '1'],
      ['net/ipv4/neigh/tapt1/proxy_delay', '0'],
      ['net/ipv4/conf/tapt1/proxy_arp', '1'],
      ['net/ipv4/conf/tapt1/forwarding', '1'],
      ['net/ipv4/conf/tapt1/rp_filter', String(wanted)],
      ['net/ipv6/conf/tapt1/proxy_ndp', '1'],
      ['net/ipv6/conf/tapt1/forwarding', '1'],
    ];
    for (const [key, value] of expected) assert.equal(await read(key), value, key);
    assert.equal(driver.isConfigured('tapt1'), true);
  });

  it('handles dotted names, rpFilter 0, IPv4-only, and remembers what is done', async () => {
    const driver = new SysctlDriver({ exec });
    await driver.configureIface('tap.d1', { ipv6: false, rpFilter: 0 });
    assert.equal(await read('net/ipv4/conf/tap.d1/proxy_arp'), '1');
    assert.equal(await read('net/ipv4/conf/tap.d1/rp_filter'), '0');
    assert.equal(await read('net/ipv6/conf/tap.d1/accept_ra'), '0');
    assert.equal(await read('net/ipv6/conf/tap.d1/proxy_ndp'), '0', 'no IPv6 settings without ipv6');
    const before = calls.length;
    await driver.configureIface('tap.d1', { ipv6: false, rpFilter: 0 });
    assert.equal(calls.length, before, 'already configured: no exec');
    driver.forget('tap.d1');
    await ns.must('sysctl', ['-q', '-w', 'net/ipv4/conf/tap.d1/proxy_arp=0']);
    await driver.configureIface('tap.d1', { ipv6: false, rpFilter: 0 });
    assert.equal(await read('net/ipv4/conf/tap.d1/proxy_arp'), '1', 're-applied after forget');
    await driver.configureIface('tap.d1', { ipv6: true, rpFilter: 0 });
    assert.equal(await read('net/ipv6/conf/tap.d1/proxy_ndp'), '1', 'new options re-apply');
  });

  it('fails recoverably for a missing interface and does not remember it', async () => {
    const driver = new SysctlDriver({ exec });
    await assert.rejects(driver.configureIface('tapgone', { ipv6: true, rpFilter: 0 }), (err: unknown) => {
      assert.ok(err instanceof SysctlWriteError);
      assert.equal(err.code, 'AGENT_SYSCTL_WRITE');
      assert.equal(err.recoverable, true);
      assert.ok(err.keys.includes('net/ipv4/conf/tapgone/proxy_arp'));
      assert.ok(!err.keys.includes('net/ipv4/neigh/tapgone/proxy_delay'), 'proxy_delay is a warning only');
      assert.match(err.message, /cannot stat/);
      return true;
    });
    assert.equal(driver.isConfigured('tapgone'), false);
    // In one batch with a good interface: the good one is configured, the bad one named.
    await ns.must('sysctl', ['-q', '-w', 'net/ipv4/conf/tapt1/proxy_arp=0']);
    const before = calls.length;
    await assert.rejects(
      driver.configureIfaces([
        { iface: 'tapgone', options: { ipv6: false, rpFilter: 0 } },
        { iface: 'tapt1', options: { ipv6: false, rpFilter: 0 } },
      ]),
      (err: unknown) => err instanceof SysctlWriteError && err.keys.includes('net/ipv4/conf/tapgone/proxy_arp') && !err.keys.some((k) => k.includes('tapt1')),
    );
    assert.equal(calls.length - before, 1, 'both interfaces in one call');
    assert.equal(driver.isConfigured('tapt1'), true);
    assert.equal(driver.isConfigured('tapgone'), false);
    assert.equal(await read('net/ipv4/conf/tapt1/proxy_arp'), '1');
    await assert.rejects(driver.configureIface('../all', { ipv6: false }), SysctlSpecError);
  });
});
