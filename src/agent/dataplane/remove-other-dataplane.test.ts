// Switching dataplanes on a host: each one removes what the other left (the iptables dispatch
// would otherwise DROP every tap the nft dataplane programs), and nothing foreign goes with it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { netnsExec, realExec } from '../../lib/index.js';
import { makeTestNetns, type TestNetns } from '../../lib/testing.js';
import type { CalcUpdate } from '../calc/model.js';
import { DEFAULT_DATAPLANE_CONFIG } from '../config.js';
import { localEndpoint } from '../rules/testing/index.js';
import { Dataplane } from './dataplane.js';
import type { DataplaneKind } from './rules-backend.js';

const update: CalcUpdate = {
  ipSets: new Map([['s:group', ['198.18.70.1/32']]]),
  ipSetDeltas: new Map(),
  rules: new Map(),
  endpoints: new Map([['ns/a', localEndpoint('tapA', { ipv4Nets: ['198.18.70.1/32'] })]]),
};

describe('switching between the iptables and nft dataplanes (real tools in a namespace)', () => {
  let ns: TestNetns;
  const run = async (kind: DataplaneKind): Promise<void> => {
    const dp = new Dataplane({ exec: netnsExec(realExec(), ns.name), config: DEFAULT_DATAPLANE_CONFIG, dataplane: kind, backend: 'nft' });
    dp.ingest(update);
    await dp.apply();
  };
  const ours = async (): Promise<{ iptables: number; ipsets: number; nft: boolean }> => {
    const save = (await ns.must('iptables-save', [])) + (await ns.must('ip6tables-save', []));
    return {
      iptables: save.split('\n').filter((l) => l.includes('cali')).length,
      ipsets: (await ns.must('ipset', ['list', '-name'])).split('\n').filter((n) => n.startsWith('cali')).length,
      nft: (await ns.run('nft', ['list', 'table', 'ip', 'brindle'])).code === 0,
    };
  };

  before(async () => {
    ns = await makeTestNetns('bro');
    await ns.must('iptables', ['-A', 'FORWARD', '-s', '198.18.99.99/32', '-j', 'DROP']);
    await ns.must('ipset', ['create', 'foreign-set', 'hash:ip']);
  });
  after(async () => {
    await ns?.remove();
  });

  it('nft after iptables removes our chains, hooks and IP sets; iptables after nft removes our table', async () => {
    await run('iptables');
    const first = await ours();
    assert.ok(first.iptables > 50 && first.ipsets >= 1 && !first.nft, JSON.stringify(first));
    await run('nft');
    assert.deepEqual(await ours(), { iptables: 0, ipsets: 0, nft: true });
    await run('iptables');
    const back = await ours();
    assert.ok(back.iptables > 50 && back.ipsets >= 1 && !back.nft, JSON.stringify(back));
    assert.match(await ns.must('iptables-save', ['-t', 'filter']), /-A FORWARD -s 198\.18\.99\.99\/32 -j DROP/, 'a foreign rule stays');
    assert.match(await ns.must('ipset', ['list', '-name']), /^foreign-set$/m, 'a foreign set stays');
  });
});
