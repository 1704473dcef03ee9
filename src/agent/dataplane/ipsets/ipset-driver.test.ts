import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realExec, type Exec } from '../../../lib/index.js';
import { makeTestNetns, type TestNetns } from '../../../lib/testing.js';
import { netnsExec } from '../../../lib/index.js';
import { IpsetRestoreError, IpsetSpecError } from './errors.js';
import { IpsetDriver } from './ipset-driver.js';
import { parseIpsetSave, type KernelSet } from './ipset-save-parser.js';

// Every test gets its own namespace: the driver treats every cali4…/cali6… set there as its own.
const namespaces: TestNetns[] = [];
after(async () => {
  for (const ns of namespaces) await ns.remove();
});

async function setup(): Promise<{ ns: TestNetns; exec: Exec; driver: IpsetDriver }> {
  const ns = await makeTestNetns('brk');
  namespaces.push(ns);
  const exec = netnsExec(realExec(), ns.name);
  return { ns, exec, driver: new IpsetDriver({ exec }) };
}

async function kernelSets(ns: TestNetns): Promise<Map<string, KernelSet>> {
  return parseIpsetSave(await ns.must('ipset', ['save']), () => true);
}

async function members(ns: TestNetns, name: string): Promise<string[] | undefined> {
  const set = (await kernelSets(ns)).get(name);
  return set === undefined ? undefined : [...set.members].sort();
}

describe('IpsetDriver (real ipset in a netns)', () => {
  it('creates hash:net sets with normalised members', async () => {
    const { ns, driver } = await setup();
    driver.setDesired('cali40a', 4, ['198.18.0.5/32', '198.18.1.0/24', '198.18.2.9/24', '198.18.0.6']);
    await driver.applyUpdates();
    const set = (await kernelSets(ns)).get('cali40a');
    assert.ok(set);
    assert.equal(set.type, 'hash:net');
    assert.equal(set.family, 'inet');
    assert.equal(set.maxelem, 1048576);
    assert.deepEqual([...set.members].sort(), ['198.18.0.5', '198.18.0.6', '198.18.1.0/24', '198.18.2.0/24']);
    const stats = driver.stats;
    assert.equal(stats.sets, 1);
    assert.equal(stats.members, 4);
    assert.equal(stats.calls, 2); // one save (resync), one restore
    assert.equal(stats.linesExecuted, 5);
    assert.equal(stats.errors, 0);
  });

  it('applies deltas only, and does nothing when nothing changed', async () => {
    const { ns, driver } = await setup();
    driver.setDesired('cali40d', 4, ['198.18.0.1/32', '198.18.0.2/32']);
    await driver.applyUpdates();
    const before = driver.stats;
    driver.addMembers('cali40d', ['198.18.0.3/32', '198.18.0.1']);
    driver.removeMembers('cali40d', ['198.18.0.2/32']);
    await driver.applyUpdates();
    assert.deepEqual(await members(ns, 'cali40d'), ['198.18.0.1', '198.18.0.3']);
    assert.equal(driver.stats.linesExecuted - before.linesExecuted, 2);
    assert.equal(driver.stats.calls - before.calls, 1);
    const calls = driver.stats.calls;
    assert.equal(driver.needsUpdate, false);
    await driver.applyUpdates();
    assert.equal(driver.stats.calls, calls);
    // Replacing the membership is a delta too.
    driver.setDesired('cali40d', 4, ['198.18.0.3/32', '198.18.0.4/32']);
    await driver.applyUpdates();
    assert.deepEqual(await members(ns, 'cali40d'), ['198.18.0.3', '198.18.0.4']);
  });

  it('repairs external changes after resync, and leaves foreign sets alone', async () => {
    const { ns, driver } = await setup();
    await ns.must('ipset', ['create', 'other-set', 'hash:ip']);
    await ns.must('ipset', ['add', 'other-set', '198.18.0.99']);
    await ns.must('ipset', ['create', 'cali40stale', 'hash:net']);
    driver.setDesired('cali40r1', 4, ['198.18.0.1/32', '198.18.0.2/32']);
    driver.setDesired('cali40r2', 4, ['198.18.0.3/32']);
    await driver.applyUpdates();
    await ns.must('ipset', ['del', 'cali40r1', '198.18.0.1']);
    await ns.must('ipset', ['add', 'cali40r1', '198.18.0.50']);
    await ns.must('ipset', ['destroy', 'cali40r2']);
    await driver.resync();
    await driver.applyUpdates();
    assert.deepEqual(await members(ns, 'cali40r1'), ['198.18.0.1', '198.18.0.2']);
    assert.deepEqual(await members(ns, 'cali40r2'), ['198.18.0.3']);
    const result = await driver.applyDeletions();
    assert.deepEqual(result, { destroyed: ['cali40stale'], deferred: [] });
    const sets = await kernelSets(ns);
    assert.deepEqual([...sets.keys()].sort(), ['cali40r1', 'cali40r2', 'other-set']);
    assert.deepEqual([...(sets.get('other-set')?.members ?? [])], ['198.18.0.99']);
  });

  it('handles IPv6 sets with /128 members', async () => {
    const { ns, driver } = await setup();
    driver.setDesired('cali60v6', 6, ['2001:db8::5/128', '2001:DB8:0:0::6', '2001:db8:1::/64']);
    await driver.applyUpdates();
    const set = (await kernelSets(ns)).get('cali60v6');
    assert.equal(set?.family, 'inet6');
    assert.deepEqual([...(set?.members ?? [])].sort(), ['2001:db8:1::/64', '2001:db8::5', '2001:db8::6']);
    driver.removeMembers('cali60v6', ['2001:db8::6/128']);
    await driver.applyUpdates();
    assert.deepEqual(await members(ns, 'cali60v6'), ['2001:db8:1::/64', '2001:db8::5']);
    assert.throws(() => driver.setDesired('cali60bad', 6, ['198.18.0.1/32']), IpsetSpecError);
    assert.throws(() => driver.setDesired('cali40bad', 6, []), IpsetSpecError);
    assert.throws(() => driver.setDesired('other', 4, []), IpsetSpecError);
  });

  it('rebuilds sets of the wrong family, type or options', async () => {
    const { ns, driver } = await setup();
    await ns.must('ipset', ['create', 'cali40fam', 'hash:net', 'family', 'inet6']);
    await ns.must('ipset', ['add', 'cali40fam', '2001:db8::1']);
    await ns.must('ipset', ['create', 'cali40typ', 'hash:ip', 'family', 'inet']);
    await ns.must('ipset', ['create', 'cali40max', 'hash:net', 'family', 'inet', 'maxelem', '1000']);
    await ns.must('ipset', ['add', 'cali40max', '198.18.0.200']);
    driver.setDesired('cali40fam', 4, ['198.18.0.1/32']);
    driver.setDesired('cali40typ', 4, ['198.18.0.2/32']);
    driver.setDesired('cali40max', 4, ['198.18.0.3/32']);
    await driver.applyUpdates();
    let sets = await kernelSets(ns);
    for (const [name, member] of [
      ['cali40fam', '198.18.0.1'],
      ['cali40typ', '198.18.0.2'],
      ['cali40max', '198.18.0.3'],
    ] as const) {
      const set = sets.get(name);
      assert.deepEqual({ type: set?.type, family: set?.family, maxelem: set?.maxelem }, { type: 'hash:net', family: 'inet', maxelem: 1048576 }, name);
      assert.deepEqual([...(set?.members ?? [])], [member], name);
    }
    // The swap left the old cali40max contents in a temporary set, destroyed with the deletions.
    assert.deepEqual([...(sets.get('cali4t0')?.members ?? [])], ['198.18.0.200']);
    assert.deepEqual((await driver.applyDeletions()).destroyed, ['cali4t0']);
    sets = await kernelSets(ns);
    assert.deepEqual([...sets.keys()].sort(), ['cali40fam', 'cali40max', 'cali40typ']);
  });

  it('defers destroying a set iptables still uses, without throwing', async () => {
    const { ns, driver } = await setup();
    driver.setDesired('cali40use', 4, ['198.18.0.1/32']);
    await driver.applyUpdates();
    await ns.must('iptables', ['-A', 'INPUT', '-m', 'set', '--match-set', 'cali40use', 'src', '-j', 'ACCEPT']);
    driver.removeDesired('cali40use');
    await driver.applyUpdates();
    const errors = driver.stats.errors;
    assert.deepEqual(await driver.applyDeletions(), { destroyed: [], deferred: ['cali40use'] });
    assert.equal(driver.stats.errors, errors + 1);
    assert.equal(driver.stats.pendingDeletions, 1);
    assert.ok((await kernelSets(ns)).has('cali40use'));
    await ns.must('iptables', ['-D', 'INPUT', '-m', 'set', '--match-set', 'cali40use', 'src', '-j', 'ACCEPT']);
    assert.deepEqual(await driver.applyDeletions(), { destroyed: ['cali40use'], deferred: [] });
    assert.equal((await kernelSets(ns)).has('cali40use'), false);
  });

  it('leaves a wrong-family set that is in use dirty, without throwing', async () => {
    const { ns, driver } = await setup();
    await ns.must('ipset', ['create', 'cali40used6', 'hash:net', 'family', 'inet6']);
    await ns.must('ip6tables', ['-A', 'INPUT', '-m', 'set', '--match-set', 'cali40used6', 'src', '-j', 'ACCEPT']);
    driver.setDesired('cali40used6', 4, ['198.18.0.1/32']);
    driver.setDesired('cali40fine', 4, ['198.18.0.2/32']);
    await driver.applyUpdates();
    assert.equal(driver.needsUpdate, true);
    assert.equal(driver.stats.errors, 1);
    assert.equal((await kernelSets(ns)).get('cali40used6')?.family, 'inet6');
    assert.deepEqual(await members(ns, 'cali40fine'), ['198.18.0.2'], 'other sets are still programmed');
    await ns.must('ip6tables', ['-D', 'INPUT', '-m', 'set', '--match-set', 'cali40used6', 'src', '-j', 'ACCEPT']);
    await driver.applyUpdates();
    assert.equal(driver.needsUpdate, false);
    assert.equal((await kernelSets(ns)).get('cali40used6')?.family, 'inet');
    assert.deepEqual(await members(ns, 'cali40used6'), ['198.18.0.1']);
  });

  it('reports a failed restore as recoverable and resyncs on the next apply', async () => {
    const { ns, driver } = await setup();
    driver.setDesired('cali40gone', 4, ['198.18.0.1/32']);
    await driver.applyUpdates();
    await ns.must('ipset', ['destroy', 'cali40gone']); // behind the driver's back, no resync
    driver.addMembers('cali40gone', ['198.18.0.2/32']);
    await assert.rejects(driver.applyUpdates(), (err: unknown) => {
      assert.ok(err instanceof IpsetRestoreError);
      assert.equal(err.code, 'AGENT_IPSET_RESTORE');
      assert.equal(err.recoverable, true);
      assert.match(err.message, /^ipset restore failed: .*does not exist/);
      return true;
    });
    assert.equal(driver.needsUpdate, true);
    await driver.applyUpdates();
    assert.deepEqual(await members(ns, 'cali40gone'), ['198.18.0.1', '198.18.0.2']);
  });

  it('applies 10k members in one restore', async () => {
    const { ns, driver } = await setup();
    const many: string[] = [];
    for (let i = 0; i < 10_000; i++) many.push(`198.18.${Math.floor(i / 256)}.${i % 256}/32`);
    driver.setDesired('cali40big', 4, many);
    const start = performance.now();
    await driver.applyUpdates();
    const ms = performance.now() - start;
    console.log(`ipset: 10000 members applied in ${ms.toFixed(0)} ms (${driver.stats.calls} calls)`);
    assert.equal(driver.stats.calls, 2);
    assert.ok(ms < 5000, `took ${ms} ms`);
    assert.equal((await members(ns, 'cali40big'))?.length, 10_000);
  });
});
