import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realExec } from '../../lib/index.js';
import { makeTestNetns, type TestNetns } from '../../lib/testing.js';
import type { CalcUpdate, LocalEndpoint } from '../calc/model.js';
import { DEFAULT_DATAPLANE_CONFIG } from '../config.js';
import { Dataplane } from './dataplane.js';
import { netnsExec } from '../../lib/index.js';

function ep(id: string, iface: string, ip: string, spoof: string[] = []): LocalEndpoint {
  return {
    id,
    iface,
    mac: 'fa:16:3e:00:00:01',
    adminUp: true,
    ipv4Nets: [`${ip}/32`],
    ipv6Nets: [],
    ipv4Nat: [],
    allowSpoofedSourcePrefixes: spoof,
    tiers: [],
    profileIds: [],
    statusIds: { orchestrator: 'openstack', workload: id, endpoint: id },
  };
}

function update(endpoints: [string, LocalEndpoint | undefined][]): CalcUpdate {
  return { ipSets: new Map(), ipSetDeltas: new Map(), rules: new Map(), endpoints: new Map(endpoints) };
}

describe('Dataplane managers (real kernel tools in a namespace)', () => {
  let ns: TestNetns;
  let dp: Dataplane;
  const links = new Map<string, number>();

  const syncIfaces = async (): Promise<void> => {
    const list = JSON.parse(await ns.must('ip', ['-j', 'link', 'show'])) as { ifname: string; ifindex: number; flags: string[] }[];
    links.clear();
    for (const l of list) if (l.ifname.startsWith('tap')) links.set(l.ifname, l.ifindex);
    dp.setIfaces(new Map(list.filter((l) => l.ifname.startsWith('tap')).map((l) => [l.ifname, { up: l.flags.includes('LOWER_UP'), index: l.ifindex }])));
  };
  const addTap = async (name: string): Promise<void> => {
    await ns.must('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `p${name.slice(3)}`]);
    await ns.must('ip', ['link', 'set', name, 'up']);
    await ns.must('ip', ['link', 'set', `p${name.slice(3)}`, 'up']);
  };
  const filter = (): Promise<string> => ns.must('iptables-save', ['-t', 'filter']);

  before(async () => {
    ns = await makeTestNetns('brd');
    for (const t of ['tapP', 'tapB', 'tapC']) await addTap(t);
    dp = new Dataplane({ exec: netnsExec(realExec(), ns.name), config: { ...DEFAULT_DATAPLANE_CONFIG, workloadSourceSpoofing: 'Any' }, backend: 'nft' });
    await syncIfaces();
  });
  after(async () => {
    await ns?.remove();
  });

  it('when two endpoints claim one tap, the lowest id wins and the other takes over when it goes', async () => {
    dp.ingest(update([['ns/b', ep('ns/b', 'tapP', '198.18.60.2')], ['ns/a', ep('ns/a', 'tapP', '198.18.60.1')]]));
    await dp.apply();
    assert.match(await ns.must('ip', ['route', 'show', 'dev', 'tapP']), /198\.18\.60\.1 /);
    assert.doesNotMatch(await ns.must('ip', ['route', 'show', 'dev', 'tapP']), /198\.18\.60\.2 /);
    dp.ingest(update([['ns/a', undefined]]));
    await dp.apply();
    assert.match(await ns.must('ip', ['route', 'show', 'dev', 'tapP']), /198\.18\.60\.2 /, 'b took the tap over');
    assert.match(await filter(), /-A cali-from-wl-dispatch -i tapP .*-g cali-fw-tapP/);
    assert.deepEqual(dp.endpointStatuses().map((s) => s.ep.id), ['ns/b']);
  });

  it('an endpoint moving to a tap another owns leaves nothing behind on its old tap', async () => {
    dp.ingest(update([['ns/c', ep('ns/c', 'tapB', '198.18.60.3', ['198.18.128.0/17'])]]));
    await dp.apply();
    assert.match(await ns.must('iptables-save', ['-t', 'raw']), /-A cali-rpf-skip -s 198\.18\.128\.0\/17 -i tapB/);
    dp.ingest(update([['ns/c', ep('ns/c', 'tapP', '198.18.60.3', ['198.18.128.0/17'])]]));
    await dp.apply();
    assert.doesNotMatch(await ns.must('iptables-save', ['-t', 'raw']), /tapB/, "the old tap's spoofing exception is gone");
    assert.equal((await ns.must('ip', ['route', 'show', 'dev', 'tapB'])).trim(), '');
    assert.doesNotMatch(await filter(), /cali-fw-tapB/);
  });

  it('a tap deleted and made again under the same name is configured again', async () => {
    dp.ingest(update([['ns/d', ep('ns/d', 'tapC', '198.18.60.4')]]));
    await syncIfaces();
    await dp.apply();
    assert.equal((await ns.must('sysctl', ['-n', 'net.ipv4.conf.tapC.proxy_arp'])).trim(), '1');
    await ns.must('ip', ['link', 'del', 'tapC']);
    await addTap('tapC');
    await syncIfaces();
    await dp.apply();
    assert.equal((await ns.must('sysctl', ['-n', 'net.ipv4.conf.tapC.proxy_arp'])).trim(), '1');
    assert.match(await ns.must('ip', ['route', 'show', 'dev', 'tapC']), /198\.18\.60\.4 /);
  });

  it('IPv6 chains, dispatch entries and sysctls only for taps whose endpoint has IPv6; gaining and losing it follows', async () => {
    const filter6 = (): Promise<string> => ns.must('ip6tables-save', ['-t', 'filter']);
    const v4only = ep('ns/e', 'tapC', '198.18.60.5');
    dp.ingest(update([['ns/d', undefined], ['ns/e', v4only]]));
    await dp.apply();
    assert.match(await filter(), /-A cali-\S*dispatch\S* -i tapC .*-g cali-fw-tapC/, 'IPv4 dispatches to it');
    assert.doesNotMatch(await filter6(), /tapC/, 'no IPv6 chain or dispatch entry for an IPv4-only tap');
    assert.match(await filter6(), /-A cali-from-wl-dispatch .*-j DROP/, 'its IPv6 falls to the DROP ending the dispatch');
    assert.equal((await ns.must('sysctl', ['-n', 'net.ipv6.conf.tapC.proxy_ndp'])).trim(), '0');
    dp.ingest(update([['ns/e', { ...v4only, ipv6Nets: ['2001:db8:60::5/128'] }]]));
    await dp.apply();
    assert.match(await filter6(), /-A cali-\S*dispatch\S* -i tapC .*-g cali-fw-tapC/, 'gaining IPv6 adds its IPv6 dispatch entry');
    assert.match(await filter6(), /-A cali-tw-tapC /);
    assert.equal((await ns.must('sysctl', ['-n', 'net.ipv6.conf.tapC.proxy_ndp'])).trim(), '1', 'and its IPv6 sysctls');
    assert.match(await ns.must('ip', ['-6', 'route', 'show', 'dev', 'tapC']), /2001:db8:60::5 /);
    dp.ingest(update([['ns/e', v4only]]));
    await dp.apply();
    assert.doesNotMatch(await filter6(), /tapC/, 'losing it removes them again');
    assert.match(await filter(), /-A cali-tw-tapC /, 'IPv4 untouched');
  });
});
