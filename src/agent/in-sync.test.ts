import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatastore, type KvStore } from '../datastore/index.js';
import { startTestEtcd, type TestEtcd } from '../datastore/testing/index.js';
import { realClock, realExec } from '../lib/index.js';
import { eventually, makeTestNetns, recordingLogger, type TestNetns } from '../lib/testing.js';
import { netnsExec } from '../lib/index.js';
import { startNodeAgent, type NodeAgent } from './node-agent.js';

const R = '/calico/resources/v3/projectcalico.org/';

for (const dataplane of ['iptables', 'nft'] as const)
  describe(`brindle node writes nothing before its first in-sync, ${dataplane} (real etcd)`, () => {
    let etcd: TestEtcd;
    let kv: KvStore;
    let host: TestNetns;
    let agent: NodeAgent | undefined;

    before(async () => {
      etcd = await startTestEtcd();
      kv = await openDatastore(etcd.config);
      host = await makeTestNetns('bri');
      await host.must('ip', ['link', 'add', 'tap0000000s-01', 'type', 'veth', 'peer', 'name', 'peer0']);
      await host.must('ip', ['link', 'set', 'tap0000000s-01', 'up']);
      await host.must('ip', ['link', 'set', 'peer0', 'up']);
      await kv.put(
        `${R}workloadendpoints/openstack/w1`,
        JSON.stringify({
          kind: 'WorkloadEndpoint',
          apiVersion: 'projectcalico.org/v3',
          metadata: { name: 'w1', namespace: 'openstack' },
          spec: { node: 'h1', orchestrator: 'openstack', workload: 'wl', endpoint: 'ep', interfaceName: 'tap0000000s-01', ipNetworks: ['198.18.50.1/32'] },
        }),
      );
    });

    after(async () => {
      await agent?.stop();
      await host?.remove();
      await kv?.close();
      await etcd?.stop();
    });

    it('waits with the kernel untouched while the datastore is away, then programs it', async () => {
      await etcd.pause();
      const { logger, lines } = recordingLogger();
      agent = await startNodeAgent({ kv, exec: netnsExec(realExec(), host.name), clock: realClock(), hostname: 'h1', dataplane, logger });
      // The fact to wait for, not a time: the agent tried to sync, failed, and tried again.
      const failedTwice = (): boolean => {
        const perPrefix = new Map<unknown, number>();
        for (const l of lines) if (l.msg === 'syncer re-listing') perPrefix.set(l['prefix'], (perPrefix.get(l['prefix']) ?? 0) + 1);
        return [...perPrefix.values()].some((n) => n >= 2);
      };
      await eventually(failedTwice, { timeoutMs: 30_000, what: 'a second failed sync attempt' });
      assert.equal(agent.status().applies, 0);
      assert.equal(agent.status().sync, 'waiting');
      const save = (await host.must('iptables-save', [])) + (await host.must('ip6tables-save', []));
      assert.doesNotMatch(save, /cali/, 'no chain or rule written before in-sync');
      assert.equal((await host.must('ipset', ['list', '-name'])).trim(), '');
      assert.equal((await host.must('nft', ['list', 'ruleset'])).trim(), '', 'no nft table either');
      assert.equal((await host.must('ip', ['route', 'show', 'proto', 'boot'])).trim(), '');
      await etcd.restart();
      await agent.firstApply;
      const programmed = dataplane === 'nft' ? await host.must('nft', ['list', 'table', 'ip', 'brindle']) : await host.must('iptables-save', ['-t', 'filter']);
      assert.match(programmed, /cali-tw-tap0000000s-01/);
      assert.match(await host.must('ip', ['route', 'show', 'proto', 'boot']), /198\.18\.50\.1 dev tap0000000s-01/);
    });
  });
