// networking-calico's compaction check against a real etcd: the trigger key on a lease is the
// timer, the last key records how far etcd was compacted and (by its mod revision) when the
// last check ran.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { CompactedError, openDatastore, type KvStore } from '../../datastore/index.js';
import { startTestEtcd, type TestEtcd } from '../../datastore/testing/index.js';
import { COMPACTION_LAST_KEY, COMPACTION_TRIGGER_KEY } from '../../model/index.js';
import { checkCompaction } from './compactor.js';

describe('etcd compaction by the elected API server', () => {
  let etcd: TestEtcd;
  let kv: KvStore;
  before(async () => {
    etcd = await startTestEtcd();
    kv = await openDatastore(etcd.config);
  });
  after(async () => {
    await kv?.close();
    await etcd?.stop();
  });

  const options = (): Parameters<typeof checkCompaction>[0] => ({ kv, periodSeconds: 3_600, minRevisions: 5, owner: 'test:1' });

  /** The period is over: what the trigger lease's expiry does, without waiting an hour. */
  async function periodEnds(): Promise<void> {
    const trigger = await kv.get(COMPACTION_TRIGGER_KEY);
    assert.ok(trigger?.lease !== undefined, 'the trigger key is on a lease');
    await kv.revokeLease(trigger.lease);
  }

  async function writes(n: number): Promise<void> {
    for (let i = 0; i < n; i++) await kv.put(`/test/compaction/${i}`, String(i));
  }

  /** Whether history at `revision` can still be watched. */
  async function watchable(revision: number): Promise<boolean> {
    const w = kv.watch('/test/compaction/', { fromRevision: revision });
    try {
      await kv.put('/test/compaction/probe', String(revision));
      for await (const batch of w) {
        void batch;
        return true;
      }
      return true;
    } catch (err) {
      if (err instanceof CompactedError) return false;
      throw err;
    } finally {
      w.close();
    }
  }

  // One scenario: each step builds on the keys the one before left (the compaction keys are cloud-wide).
  it('checks, waits for the period, compacts, keeps history, repairs', async (t: TestContext) => {
    await t.test('first check arms the timer and records the check; nothing is compacted yet', async () => {
      await writes(10);
      const r = await checkCompaction(options());
      assert.equal(r.outcome, 'nothing-to-do');
      assert.equal((await kv.get(COMPACTION_LAST_KEY))?.value, '0');
      assert.equal((await kv.get(COMPACTION_TRIGGER_KEY))?.value, 'test:1');
      assert.equal(await watchable(2), true);
    });

    await t.test('is not due while the trigger lives', async () => {
      assert.deepEqual(await checkCompaction(options()), { outcome: 'not-due' });
    });

    await t.test('when due, compacts up to the previous check, keeping what came since', async () => {
      const previousCheck = (await kv.get(COMPACTION_LAST_KEY))?.modRevision ?? 0;
      await writes(20);
      await periodEnds();
      const r = await checkCompaction(options());
      assert.deepEqual(r.outcome === 'compacted' ? r.compactedTo : r, previousCheck);
      assert.equal((await kv.get(COMPACTION_LAST_KEY))?.value, String(previousCheck));
      assert.equal(await watchable(previousCheck - 1), false, 'history before the previous check is gone');
      assert.equal(await watchable(previousCheck + 1), true, 'history since the previous check is kept');
    });

    await t.test('keeps at least minRevisions when checks come close together', async () => {
      await periodEnds();
      const r = await checkCompaction(options());
      // Only a few revisions since the last check: compacting up to it would keep fewer than 5.
      assert.ok(r.outcome === 'compacted', JSON.stringify(r));
      assert.equal(r.compactedTo, r.revision - 5);
      assert.equal(await watchable(r.compactedTo), true);
    });

    await t.test('records the current revision when someone else compacted further', async () => {
      await writes(10);
      const current = await kv.revision();
      await kv.compact(current);
      await periodEnds();
      // The last key's revision (the check before) is now behind etcd's compaction point.
      const r = await checkCompaction(options());
      assert.equal(r.outcome, 'already-compacted');
      assert.ok(Number((await kv.get(COMPACTION_LAST_KEY))?.value) >= current);
    });

    await t.test('repairs a trigger key left without a lease (it would stop compaction for good)', async () => {
      await periodEnds();
      await kv.put(COMPACTION_TRIGGER_KEY, 'stuck');
      const r = await checkCompaction(options());
      assert.notEqual(r.outcome, 'not-due');
      assert.ok((await kv.get(COMPACTION_TRIGGER_KEY))?.lease !== undefined, 'the trigger is on a lease again');
    });
  });
});
