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

for (const kind of ['iptables', 'nft'] as const)
  describe(`Dataplane managers, ${kind} (real kernel tools in a namespace)`, () => {
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
    /** Our filter rules of one family as text (iptables-save, or our nft table). */
    const rulesText = async (family: 4 | 6, table: 'filter' | 'raw' = 'filter'): Promise<string> => {
      if (kind === 'nft') return (await ns.run('nft', ['list', 'table', family === 4 ? 'ip' : 'ip6', 'brindle'])).stdout;
      return ns.must(family === 4 ? 'iptables-save' : 'ip6tables-save', ['-t', table]);
    };
    /** Whether the dispatch sends `tap` to its from-endpoint chain. */
    const dispatches = async (family: 4 | 6, tap: string): Promise<boolean> => {
      const text = await rulesText(family);
      return kind === 'nft' ? text.includes(`"${tap}" : goto cali-fw-${tap}`) : new RegExp(`-A cali-\\S*dispatch\\S* -i ${tap} .*-g cali-fw-${tap}`).test(text);
    };
    const hasChain = async (family: 4 | 6, name: string): Promise<boolean> => {
      const text = await rulesText(family);
      return kind === 'nft' ? text.includes(`chain ${name} {`) : text.includes(`-A ${name} `);
    };

    before(async () => {
      ns = await makeTestNetns('brd');
      for (const t of ['tapP', 'tapB', 'tapC']) await addTap(t);
      dp = new Dataplane({
        exec: netnsExec(realExec(), ns.name),
        config: { ...DEFAULT_DATAPLANE_CONFIG, workloadSourceSpoofing: 'Any' },
        dataplane: kind,
        backend: 'nft',
      });
      await syncIfaces();
    });
    after(async () => {
      await ns?.remove();
    });

    it('when two endpoints claim one tap, the lowest id wins and the other takes over when it goes', async () => {
      dp.ingest(
        update([
          ['ns/b', ep('ns/b', 'tapP', '198.18.60.2')],
          ['ns/a', ep('ns/a', 'tapP', '198.18.60.1')],
        ]),
      );
      await dp.apply();
      assert.match(await ns.must('ip', ['route', 'show', 'dev', 'tapP']), /198\.18\.60\.1 /);
      assert.doesNotMatch(await ns.must('ip', ['route', 'show', 'dev', 'tapP']), /198\.18\.60\.2 /);
      dp.ingest(update([['ns/a', undefined]]));
      await dp.apply();
      assert.match(await ns.must('ip', ['route', 'show', 'dev', 'tapP']), /198\.18\.60\.2 /, 'b took the tap over');
      assert.ok(await dispatches(4, 'tapP'));
      assert.deepEqual(
        dp.endpointStatuses().map((s) => s.ep.id),
        ['ns/b'],
      );
    });

    it('an endpoint moving to a tap another owns leaves nothing behind on its old tap', async () => {
      dp.ingest(update([['ns/c', ep('ns/c', 'tapB', '198.18.60.3', ['198.18.128.0/17'])]]));
      await dp.apply();
      assert.match(
        await rulesText(4, 'raw'),
        kind === 'nft' ? /iifname "tapB" ip saddr 198\.18\.128\.0\/17 counter packets \d+ bytes \d+ accept/ : /-A cali-rpf-skip -s 198\.18\.128\.0\/17 -i tapB/,
      );
      dp.ingest(update([['ns/c', ep('ns/c', 'tapP', '198.18.60.3', ['198.18.128.0/17'])]]));
      await dp.apply();
      assert.doesNotMatch(await rulesText(4, 'raw'), /tapB/, "the old tap's spoofing exception is gone");
      assert.equal((await ns.must('ip', ['route', 'show', 'dev', 'tapB'])).trim(), '');
      assert.equal(await hasChain(4, 'cali-fw-tapB'), false);
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
      const v4only = ep('ns/e', 'tapC', '198.18.60.5');
      dp.ingest(
        update([
          ['ns/d', undefined],
          ['ns/e', v4only],
        ]),
      );
      await dp.apply();
      assert.ok(await dispatches(4, 'tapC'), 'IPv4 dispatches to it');
      assert.doesNotMatch(await rulesText(6), /tapC/, 'no IPv6 chain or dispatch entry for an IPv4-only tap');
      assert.match(
        await rulesText(6),
        kind === 'nft' ? /chain cali-from-wl-dispatch \{\n.*vmap.*\n\s*counter packets \d+ bytes \d+ drop/ : /-A cali-from-wl-dispatch .*-j DROP/,
        'its IPv6 falls to the DROP ending the dispatch',
      );
      assert.equal((await ns.must('sysctl', ['-n', 'net.ipv6.conf.tapC.proxy_ndp'])).trim(), '0');
      dp.ingest(update([['ns/e', { ...v4only, ipv6Nets: ['2001:db8:60::5/128'] }]]));
      await dp.apply();
      assert.ok(await dispatches(6, 'tapC'), 'gaining IPv6 adds its IPv6 dispatch entry');
      assert.ok(await hasChain(6, 'cali-tw-tapC'));
      assert.equal((await ns.must('sysctl', ['-n', 'net.ipv6.conf.tapC.proxy_ndp'])).trim(), '1', 'and its IPv6 sysctls');
      assert.match(await ns.must('ip', ['-6', 'route', 'show', 'dev', 'tapC']), /2001:db8:60::5 /);
      dp.ingest(update([['ns/e', v4only]]));
      await dp.apply();
      assert.doesNotMatch(await rulesText(6), /tapC/, 'losing it removes them again');
      assert.ok(await hasChain(4, 'cali-tw-tapC'), 'IPv4 untouched');
    });
  });
