import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { openDatastore, type KvStore } from '../../datastore/index.js';
import { realClock, realFs, silentLogger } from '../../lib/index.js';
import { eventually, trackTempDir, untrackTempDir } from '../../lib/testing.js';
import { NeutronCache } from './neutron-cache.js';
import { defaultSgKey, ipKey, ipPrefix, macKey, objectKey } from './neutron-keys.js';
import { WriteThroughKv } from './write-through-kv.js';

const fs = realFs();

function network(id: string, name: string): string {
  return JSON.stringify({ id, name });
}

describe('NeutronCache: a watch-fed copy of Neutron objects, written through by its own server', () => {
  let dir: string;
  let kv: KvStore;
  let cache: NeutronCache;
  let through: WriteThroughKv;
  before(async () => {
    dir = await fs.makeTempDir('brindle-neutron-cache-');
    trackTempDir(dir);
    kv = await openDatastore({ kind: 'embedded', path: dir });
    await kv.put(objectKey('networks', 'before'), network('before', 'listed'));
    cache = new NeutronCache({ kv, clock: realClock(), logger: silentLogger() });
    through = new WriteThroughKv(kv, cache);
  });
  after(async () => {
    await cache?.stop();
    await kv?.close();
    await fs.remove(dir);
    untrackTempDir(dir);
  });

  // One scenario: the cache started in the first step serves the rest.
  it('starts, follows the watch, reads its own writes, orders changes by revision', async (t: TestContext) => {
    await t.test('is not ready before it starts; lists, then follows the watch', async () => {
      assert.equal(cache.ready, false);
      cache.start();
      await eventually(() => cache.ready, { what: 'cache ready' });
      assert.equal((JSON.parse(cache.get('networks', 'before')?.value ?? '{}') as { name?: string }).name, 'listed');
      // Another server's writes arrive through the watch; keys the cache does not keep (MACs) are ignored.
      await kv.put(objectKey('networks', 'other'), network('other', 'by someone else'));
      await kv.put(macKey('n1', 'fa:16:3e:00:00:01'), 'p1');
      await eventually(() => cache.get('networks', 'other') !== undefined, { what: 'the watched write' });
      await kv.delete(objectKey('networks', 'other'));
      await eventually(() => cache.get('networks', 'other') === undefined, { what: 'the watched delete' });
      assert.deepEqual(
        cache.values('networks').map((e) => e.key),
        [objectKey('networks', 'before')],
      );
    });

    await t.test('keeps each subnet\u2019s allocated addresses and each project\u2019s default group', async () => {
      await kv.put(ipKey('s1', '198.18.0.5'), 'p1');
      await through.txn({
        compare: [],
        success: [
          { op: 'put', key: ipKey('s1', '198.18.0.6'), value: 'p2' },
          { op: 'put', key: defaultSgKey('proj'), value: 'sg1' },
        ],
      });
      assert.equal(cache.allocations('s1').get('198.18.0.6')?.value, 'p2', 'written through at once');
      await eventually(() => cache.allocations('s1').get('198.18.0.5')?.value === 'p1', { what: 'the watched allocation' });
      assert.equal(cache.get('default-security-groups', 'proj')?.value, 'sg1');
      assert.equal(cache.allocations('s2').size, 0, 'a subnet with nothing allocated');
      await through.deletePrefix(ipPrefix('s1'));
      assert.equal(cache.allocations('s1').size, 0, 'released with the subnet');
    });

    await t.test('finds records by an indexed attribute, built on first use and kept up to date', async () => {
      const port = (id: string, device: string): string =>
        JSON.stringify({ id, device_id: device, fixed_ips: [{ subnet_id: 's', ip_address: `198.18.1.${id}` }] });
      await through.put(objectKey('ports', '1'), port('1', 'vm-a'));
      assert.deepEqual([...cache.idsWhere('ports', 'device_id', 'vm-a')], ['1'], 'built from what is there');
      await kv.put(objectKey('ports', '2'), port('2', 'vm-a')); // another server's write, through the watch
      await eventually(() => cache.idsWhere('ports', 'device_id', 'vm-a').size === 2, { what: 'the watched port indexed' });
      await through.put(objectKey('ports', '1'), port('1', 'vm-b'));
      assert.deepEqual([...cache.idsWhere('ports', 'device_id', 'vm-a')], ['2'], 'moved off its old value');
      assert.deepEqual([...cache.idsWhere('ports', 'fixed_ips', '198.18.1.1')], ['1']);
      await through.delete(objectKey('ports', '1'));
      await through.delete(objectKey('ports', '2'));
      assert.equal(cache.idsWhere('ports', 'device_id', 'vm-b').size, 0, 'gone with the delete');
      assert.equal(cache.idsWhere('ports', 'fixed_ips', '198.18.1.1').size, 0);
    });

    await t.test('sees its own server\u2019s writes at once, before the watch delivers them', async () => {
      const r = await through.put(objectKey('networks', 'mine'), network('mine', 'written here'));
      const entry = cache.get('networks', 'mine');
      assert.equal(entry?.modRevision, r.revision, 'in the cache when the write returns');
      await through.delete(objectKey('networks', 'mine'));
      assert.equal(cache.get('networks', 'mine'), undefined, 'gone when the delete returns');
      await eventually(() => cache.revision >= r.revision + 1, { what: 'the watch past both' });
      assert.equal(cache.get('networks', 'mine'), undefined, 'and the watch does not bring it back');
    });

    await t.test('never lets an older change undo a newer one (a late watch event after a write-through)', () => {
      const key = objectKey('ports', 'p');
      const put = (revision: number, value: string): void =>
        cache.applyTxn({ compare: [], success: [{ op: 'put', key, value }] }, { succeeded: true, revision, results: [] });
      const base = cache.revision + 1_000;
      put(base + 10, 'new');
      put(base + 5, 'old');
      assert.equal(cache.get('ports', 'p')?.value, 'new');
      cache.applyTxn({ compare: [], success: [{ op: 'delete', key }] }, { succeeded: true, revision: base + 20, results: [] });
      put(base + 15, 'older than the delete');
      assert.equal(cache.get('ports', 'p'), undefined, 'a delete is not undone by an older put');
      put(base + 30, 'newer');
      assert.equal(cache.get('ports', 'p')?.value, 'newer');
      cache.applyTxn({ compare: [], success: [{ op: 'delete', key }] }, { succeeded: false, revision: base + 40, results: [] });
      assert.equal(cache.get('ports', 'p')?.value, 'newer', 'a failed transaction changes nothing');
    });
  });
});
