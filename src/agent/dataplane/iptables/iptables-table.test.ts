import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realExec } from '../../../lib/index.js';
import { makeTestNetns, type TestNetns } from '../../../lib/testing.js';
import { IptablesRestoreError } from '../../errors.js';
import { netnsExec } from '../../../lib/index.js';
import type { Chain } from './chain.js';
import { IptablesTable } from './iptables-table.js';

const chainA: Chain = {
  name: 'cali-a',
  rules: [
    { match: '-p tcp', action: '-j cali-b', comment: ['to b'] },
    { match: '', action: '-j DROP' },
  ],
};
const chainB: Chain = { name: 'cali-b', rules: [{ match: '-m mark --mark 0x10000/0x10000', action: '-j RETURN' }] };

for (const backend of ['nft', 'legacy'] as const) {
  describe(`IptablesTable (${backend} backend, real iptables in a namespace)`, () => {
    let ns: TestNetns;
    let table: IptablesTable;
    const save = async (): Promise<string> => ns.must(`iptables-${backend}-save`, ['-t', 'filter']);
    before(async () => {
      ns = await makeTestNetns('bri');
      table = new IptablesTable({ exec: netnsExec(realExec(), ns.name), table: 'filter', family: 4, backend });
    });
    after(async () => {
      await ns.remove();
    });

    it('programs referenced chains and our kernel-chain rules, then has nothing to do', async () => {
      await ns.must(`iptables-${backend}`, ['-A', 'FORWARD', '-s', '198.18.9.9/32', '-j', 'ACCEPT']);
      table.setChain(chainA);
      table.setChain(chainB);
      table.setChain({ name: 'cali-unused', rules: [{ match: '', action: '-j DROP' }] });
      table.setKernelRules('FORWARD', {
        insert: [{ match: '', action: '-j cali-a' }],
        append: [{ match: '-m mark --mark 0x10000/0x10000', action: '-j ACCEPT' }],
      });
      assert.ok((await table.apply()) > 0);
      const text = await save();
      const forward = text.split('\n').filter((l) => l.startsWith('-A FORWARD'));
      assert.equal(forward.length, 3);
      assert.match(forward[0] ?? '', /cali:\S{16}.* -j cali-a/);
      assert.match(forward[1] ?? '', /198\.18\.9\.9/);
      assert.match(forward[2] ?? '', /-j ACCEPT/);
      assert.match(text, /-A cali-a -p tcp -m comment --comment "cali:\S{16}" -m comment --comment "to b" -j cali-b/);
      assert.doesNotMatch(text, /cali-unused/, 'an unreferenced chain is not programmed');
      assert.equal(await table.apply(), 0);
      table.markForResync();
      assert.equal(await table.apply(), 0, 'reading back finds everything in place');
    });

    it('repairs drift after a resync and leaves foreign rules in place', async () => {
      await ns.must(`iptables-${backend}`, ['-F', 'cali-b']);
      await ns.must(`iptables-${backend}`, ['-I', 'FORWARD', '1', '-s', '198.18.7.7/32', '-j', 'DROP']);
      await ns.must(`iptables-${backend}`, ['-N', 'foreign-chain']);
      table.markForResync();
      assert.ok((await table.apply()) > 0);
      const text = await save();
      const forward = text.split('\n').filter((l) => l.startsWith('-A FORWARD'));
      assert.match(forward[0] ?? '', /-j cali-a/, 'our hook is back on top');
      assert.match(forward[1] ?? '', /198\.18\.7\.7/, 'the foreign rule stays');
      assert.match(text, /-A cali-b .*-j RETURN/);
      assert.match(text, /:foreign-chain/);
    });

    it('deletes chains no longer wanted and keeps the rest untouched', async () => {
      table.setChain({ name: 'cali-a', rules: [{ match: '', action: '-j DROP' }] });
      table.removeChain('cali-b');
      assert.ok((await table.apply()) > 0);
      const text = await save();
      assert.doesNotMatch(text, /cali-b/);
      assert.match(text, /-A cali-a .*-j DROP/);
      table.markForResync();
      assert.equal(await table.apply(), 0);
    });

    it('a refused transaction changes nothing and says why', async () => {
      const before = await save();
      table.setChain({ name: 'cali-a', rules: [{ match: '-m nosuchmatch', action: '-j DROP' }] });
      await assert.rejects(table.apply(), (err: unknown) => err instanceof IptablesRestoreError && /iptables/.test(err.message));
      assert.equal((await save()).replace(/^#.*$/gm, ''), before.replace(/^#.*$/gm, ''));
      table.setChain({ name: 'cali-a', rules: [{ match: '', action: '-j DROP' }] });
      assert.equal(await table.apply(), 0, 'after the failure the table is re-read and found in place');
    });

    it("removes an older Felix's hook and chain (no id) instead of failing on them", async () => {
      await ns.must(`iptables-${backend}`, ['-N', 'felix-INPUT']);
      await ns.must(`iptables-${backend}`, ['-A', 'felix-INPUT', '-j', 'RETURN']);
      await ns.must(`iptables-${backend}`, ['-I', 'INPUT', '1', '-j', 'felix-INPUT']);
      table.setKernelRules('INPUT', { insert: [{ match: '', action: '-j cali-a' }], append: [] });
      table.markForResync();
      assert.ok((await table.apply()) > 0);
      const text = await save();
      assert.doesNotMatch(text, /felix-INPUT/);
      assert.match(text, /-A INPUT -m comment --comment "cali:\S{16}" -j cali-a/);
      table.setKernelRules('INPUT', { insert: [], append: [] });
      await table.apply();
    });

    it('between resyncs, compares only what changed, yet removes a chain nothing jumps to any more', async () => {
      table.setKernelRules('FORWARD', { insert: [{ match: '', action: '-j cali-a' }], append: [] });
      table.setChain({ name: 'cali-a', rules: [{ match: '-p udp', action: '-j cali-b' }] });
      table.setChain({ name: 'cali-b', rules: [{ match: '', action: '-j RETURN' }] });
      await table.apply();
      assert.match(await save(), /:cali-b/);
      table.setChain({ name: 'cali-a', rules: [{ match: '', action: '-j DROP' }] });
      assert.ok((await table.apply()) > 0);
      assert.doesNotMatch(await save(), /cali-b/, 'no longer referenced, so deleted');
      table.setChain({ name: 'cali-a', rules: [{ match: '-p udp', action: '-j cali-b' }] });
      await table.apply();
      assert.match(await save(), /-A cali-b .*-j RETURN/, 'referenced again, so programmed again');
      table.markForResync();
      assert.equal(await table.apply(), 0, 'a full comparison agrees');
    });

    it('a chain two jumps away shared by two parents stays while either reaches it, and goes with the last', async () => {
      table.setKernelRules('FORWARD', {
        insert: [
          { match: '-p tcp', action: '-j cali-p1' },
          { match: '-p udp', action: '-j cali-p2' },
        ],
        append: [],
      });
      table.setChain({ name: 'cali-p1', rules: [{ match: '', action: '-j cali-mid' }] });
      table.setChain({ name: 'cali-p2', rules: [{ match: '', action: '-j cali-mid' }] });
      table.setChain({ name: 'cali-mid', rules: [{ match: '', action: '-j cali-leaf' }] });
      table.setChain({ name: 'cali-leaf', rules: [{ match: '', action: '-j RETURN' }] });
      await table.apply();
      assert.match(await save(), /-A cali-leaf .*-j RETURN/);
      table.setChain({ name: 'cali-p1', rules: [{ match: '', action: '-j DROP' }] });
      await table.apply();
      assert.match(await save(), /-A cali-leaf .*-j RETURN/, 'still reached through cali-p2');
      table.removeChain('cali-p2');
      await table.apply();
      const text = await save();
      assert.doesNotMatch(text, /cali-mid|cali-leaf/, 'nothing reaches them any more');
      assert.match(text, /:cali-p2/, 'cali-p2 is still jumped to from FORWARD, so it stays (empty)');
      table.setChain({ name: 'cali-p2', rules: [{ match: '', action: '-j cali-mid' }] });
      await table.apply();
      assert.match(await save(), /-A cali-leaf .*-j RETURN/, 'reached again, the whole subtree is back');
      table.markForResync();
      assert.equal(await table.apply(), 0, 'a full comparison agrees');
    });

    it('removing our kernel rules removes our chains too', async () => {
      table.setKernelRules('FORWARD', { insert: [], append: [] });
      await table.apply();
      const text = await save();
      assert.doesNotMatch(text, /cali/);
      assert.match(text, /198\.18\.7\.7/);
    });
  });
}
