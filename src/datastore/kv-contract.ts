// The KV contract: one suite that every KvStore backend must pass. Backend test files call
// runKvContract with a way to open clients on one shared store and the config a child process
// uses to reach the same store.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CompactedError, InvalidTxnError, LeaseNotFoundError } from './errors.js';
import type { KvStore, Watch, WatchBatch, WatchEvent } from './kv-store.js';
import type { DatastoreConfig } from './open-datastore.js';
import { spawnKvChild } from './testing/kv-child-process.js';

export interface KvContractTarget {
  /** Opens another client on the store under test. */
  open(): Promise<KvStore>;
  /** How a child process reaches the same store. */
  readonly config: DatastoreConfig;
  /** Releases the store (stops servers, removes files). */
  teardown(): Promise<void>;
}

/** Reads a watch until `count` events have arrived; fails after `timeoutMs`. */
export async function collectEvents(watch: Watch, count: number, timeoutMs = 10_000): Promise<{ events: WatchEvent[]; batches: WatchBatch[] }> {
  const events: WatchEvent[] = [];
  const batches: WatchBatch[] = [];
  const it = watch[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (events.length < count) {
    const left = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`watch delivered ${events.length}/${count} events in ${timeoutMs} ms`)), Math.max(1, left));
    });
    try {
      const r = await Promise.race([it.next(), timeout]);
      if (r.done === true) break;
      batches.push(r.value);
      events.push(...r.value.events);
    } finally {
      clearTimeout(timer);
    }
  }
  return { events, batches };
}

function keyOf(e: WatchEvent): string {
  return e.type === 'put' ? e.kv.key : e.key;
}

export function runKvContract(name: string, setup: () => Promise<KvContractTarget>): void {
  describe(`KV contract: ${name}`, () => {
    let target: KvContractTarget;
    let kv: KvStore;
    let p: string;
    const opened: KvStore[] = [];

    before(async () => {
      target = await setup();
      kv = await target.open();
      opened.push(kv);
    });
    after(async () => {
      for (const s of opened) await s.close();
      await target?.teardown();
    });
    const fresh = (): string => (p = `/brindle-test/${randomUUID()}/`);

    it('put and get track create/mod revisions and versions; revision moves by one per write', async () => {
      fresh();
      const r0 = await kv.revision();
      const w1 = await kv.put(`${p}a`, 'one');
      assert.equal(w1.succeeded, true);
      assert.equal(w1.revision, r0 + 1);
      assert.equal(w1.current, undefined);
      const w2 = await kv.put(`${p}a`, 'two');
      assert.equal(w2.revision, r0 + 2);
      assert.equal(w2.current?.value, 'one');
      const got = await kv.get(`${p}a`);
      assert.deepEqual(got, { key: `${p}a`, value: 'two', createRevision: r0 + 1, modRevision: r0 + 2, version: 2, lease: undefined });
      assert.equal(await kv.get(`${p}missing`), undefined);
      const d = await kv.delete(`${p}a`);
      assert.equal(d.succeeded, true);
      assert.equal(d.current?.value, 'two');
      assert.equal(await kv.get(`${p}a`), undefined);
      assert.equal(await kv.revision(), r0 + 3);
      // Deleting what is not there changes nothing.
      await kv.delete(`${p}a`);
      assert.equal(await kv.revision(), r0 + 3);
      // Values are text, stored exactly.
      const text = 'ünïcödé ✓ "quotes" \\ \n newline';
      await kv.put(`${p}u`, text);
      assert.equal((await kv.get(`${p}u`))?.value, text);
    });

    it('list is sorted, bounded by the prefix, and consistent with its revision', async () => {
      fresh();
      for (const k of ['b', 'a', 'c/x', 'c/y']) await kv.put(`${p}${k}`, k);
      await kv.put(`${p.slice(0, -1)}0`, 'outside: the prefix without its slash, then 0');
      const all = await kv.list(p);
      assert.deepEqual(
        all.items.map((i) => i.key),
        ['a', 'b', 'c/x', 'c/y'].map((k) => p + k),
      );
      assert.equal(all.revision, await kv.revision());
      assert.deepEqual(
        (await kv.list(`${p}c/`)).items.map((i) => i.value),
        ['c/x', 'c/y'],
      );
      assert.deepEqual((await kv.list(`${p}zz`)).items, []);
      const del = await kv.deletePrefix(`${p}c/`);
      assert.equal(del.deleted, 2);
      assert.equal((await kv.list(p)).items.length, 2);
      await kv.delete(`${p.slice(0, -1)}0`);
    });

    it('conditional writes: absent, present, mod revision and value', async () => {
      fresh();
      const k = `${p}cas`;
      assert.equal((await kv.put(k, 'v1', { condition: { present: true } })).succeeded, false);
      const c1 = await kv.put(k, 'v1', { condition: { absent: true } });
      assert.equal(c1.succeeded, true);
      const c2 = await kv.put(k, 'v2', { condition: { absent: true } });
      assert.equal(c2.succeeded, false);
      assert.equal(c2.current?.value, 'v1', 'a failed condition reports the current value');
      const rev = c2.current?.modRevision ?? 0;
      assert.equal((await kv.put(k, 'v2', { condition: { modRevision: rev } })).succeeded, true);
      assert.equal((await kv.put(k, 'v3', { condition: { modRevision: rev } })).succeeded, false, 'stale revision loses');
      assert.equal((await kv.put(k, 'v3', { condition: { value: 'v1' } })).succeeded, false);
      assert.equal((await kv.put(k, 'v3', { condition: { value: 'v2' } })).succeeded, true);
      assert.equal((await kv.delete(k, { condition: { value: 'nope' } })).succeeded, false);
      assert.equal((await kv.get(k))?.value, 'v3');
      assert.equal((await kv.delete(k, { condition: { value: 'v3' } })).succeeded, true);
      assert.equal((await kv.put(`${p}none`, 'x', { condition: { value: '' } })).succeeded, false, 'a value compare on an absent key fails');
    });

    it('transactions are all or nothing, at one revision', async () => {
      fresh();
      await kv.put(`${p}guard`, 'g');
      const before = await kv.revision();
      const ok = await kv.txn({
        compare: [
          { key: `${p}guard`, target: 'value', op: '==', value: 'g' },
          { key: `${p}x`, target: 'version', op: '==', value: 0 },
        ],
        success: [
          { op: 'put', key: `${p}x`, value: '1' },
          { op: 'put', key: `${p}y`, value: '2' },
          { op: 'delete', key: `${p}guard` },
          { op: 'get', key: `${p}x` },
        ],
        failure: [{ op: 'get', key: `${p}guard` }],
      });
      assert.equal(ok.succeeded, true);
      assert.equal(ok.revision, before + 1);
      const x = await kv.get(`${p}x`);
      const y = await kv.get(`${p}y`);
      assert.equal(x?.modRevision, before + 1);
      assert.equal(y?.modRevision, before + 1);
      assert.equal(await kv.get(`${p}guard`), undefined);
      const r3 = ok.results[3];
      assert.ok(r3?.op === 'get' && r3.kv?.value === '1', 'a get after a put in one transaction sees the put');
      const no = await kv.txn({
        compare: [{ key: `${p}x`, target: 'version', op: '==', value: 0 }],
        success: [{ op: 'put', key: `${p}z`, value: 'never' }],
        failure: [{ op: 'get', key: `${p}x` }],
      });
      assert.equal(no.succeeded, false);
      assert.equal(no.revision, before + 1, 'a failed guard with read-only failure ops writes nothing');
      assert.ok(no.results[0]?.op === 'get' && no.results[0].kv?.value === '1');
      assert.equal(await kv.get(`${p}z`), undefined);
      const cmp = await kv.txn({
        compare: [
          { key: `${p}x`, target: 'modRevision', op: '<', value: before + 2 },
          { key: `${p}x`, target: 'createRevision', op: '>', value: before },
          { key: `${p}x`, target: 'version', op: '!=', value: 2 },
        ],
        success: [],
      });
      assert.equal(cmp.succeeded, true);
    });

    it('a put returns the key as it was only when asked to', async () => {
      fresh();
      await kv.put(`${p}prev`, 'one');
      const r = await kv.txn({
        compare: [],
        success: [
          { op: 'put', key: `${p}prev`, value: 'two' },
          { op: 'put', key: `${p}prev2`, value: 'new', returnPrevious: true },
        ],
      });
      assert.deepEqual(
        r.results.map((x) => (x.op === 'put' ? x.previous?.value : 'not a put')),
        [undefined, undefined],
      );
      const asked = await kv.txn({ compare: [], success: [{ op: 'put', key: `${p}prev`, value: 'three', returnPrevious: true }] });
      const first = asked.results[0];
      assert.ok(first?.op === 'put' && first.previous?.value === 'two', 'the value before the put');
      assert.equal(first.previous.modRevision, r.revision);
      assert.equal((await kv.put(`${p}prev`, 'four')).current?.value, 'three', 'put() reports what it replaced');
    });

    it('a transaction that writes one key twice is refused and writes nothing', async () => {
      fresh();
      const before = await kv.revision();
      await assert.rejects(
        kv.txn({
          compare: [],
          success: [
            { op: 'put', key: `${p}d`, value: '1' },
            { op: 'put', key: `${p}d`, value: '2' },
          ],
        }),
        InvalidTxnError,
      );
      assert.equal(await kv.revision(), before);
    });

    it('N writers racing on one key: exactly one wins each round', async () => {
      fresh();
      const n = 5;
      const clients = await Promise.all(Array.from({ length: n }, () => target.open()));
      opened.push(...clients);
      const k = `${p}race`;
      await kv.put(k, 'round-0');
      for (let round = 1; round <= 20; round++) {
        const cur = await kv.get(k);
        assert.ok(cur);
        const results = await Promise.all(clients.map((c, i) => c.put(k, `round-${round}-writer-${i}`, { condition: { modRevision: cur.modRevision } })));
        const winners = results.filter((r) => r.succeeded);
        assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
        const losers = results.filter((r) => !r.succeeded);
        for (const l of losers) assert.equal(l.current?.modRevision, winners[0]?.revision, 'losers see the winner');
      }
    });

    it('writers in separate processes never lose an update', async () => {
      fresh();
      const k = `${p}counter`;
      const children = [0, 1, 2].map(() => spawnKvChild(target.config, ['increment', k, '25']));
      const results = await Promise.all(children.map((c) => c.finish()));
      const won = results.flatMap((lines) => (lines.at(-1)?.['won'] as number[] | undefined) ?? []);
      assert.equal(won.length, 75);
      assert.deepEqual(
        [...won].sort((a, b) => a - b),
        Array.from({ length: 75 }, (_, i) => i + 1),
        'every value written exactly once',
      );
      assert.equal((await kv.get(k))?.value, '75');
    });

    it('watch from an old revision replays history, then follows live writes', async () => {
      fresh();
      const revs: number[] = [];
      for (let i = 0; i < 5; i++) revs.push((await kv.put(`${p}k${i}`, `v${i}`)).revision);
      const watch = kv.watch(p, { fromRevision: revs[2] ?? 0 });
      const old = await collectEvents(watch, 3);
      assert.deepEqual(old.events.map(keyOf), [`${p}k2`, `${p}k3`, `${p}k4`]);
      assert.deepEqual(
        old.batches.map((b) => b.revision),
        revs.slice(2),
      );
      await kv.put(`${p}k0`, 'again');
      await kv.delete(`${p}k1`);
      const live = await collectEvents(watch, 2);
      const [put, del] = live.events;
      assert.ok(put?.type === 'put' && put.kv.value === 'again' && put.kv.version === 2);
      assert.ok(del?.type === 'delete' && del.key === `${p}k1`);
      assert.equal(del.modRevision, live.batches[1]?.revision);
      watch.close();
    });

    it('watch from revision 0 starts now; a watch from a future revision waits for it', async () => {
      fresh();
      await kv.put(`${p}old`, 'before the watch');
      const now = kv.watch(p, { fromRevision: 0 });
      const next = (await kv.revision()) + 3;
      const future = kv.watch(p, { fromRevision: next });
      // In place before the writes: a fact, not a sleep.
      await Promise.all([now.ready, future.ready]);
      for (let i = 1; i <= 4; i++) await kv.put(`${p}k${i}`, String(i));
      const fromNow = await collectEvents(now, 4);
      assert.deepEqual(
        fromNow.events.map(keyOf),
        [1, 2, 3, 4].map((i) => `${p}k${i}`),
        'nothing from before the watch',
      );
      const fromFuture = await collectEvents(future, 2);
      assert.deepEqual(
        fromFuture.batches.map((b) => b.revision),
        [next, next + 1],
      );
      now.close();
      future.close();
    });

    it('a watch says when it is in place; its ready settles too when it is closed first', async () => {
      fresh();
      const w = kv.watch(p, { fromRevision: 0 });
      assert.equal(await w.ready, true, 'in place');
      await kv.put(`${p}after-ready`, 'x');
      const got = await collectEvents(w, 1);
      assert.deepEqual(got.events.map(keyOf), [`${p}after-ready`], 'a write after ready is seen');
      w.close();
      const closed = kv.watch(p, { fromRevision: 0 });
      closed.close();
      // An embedded watch is in place as soon as it exists; an etcd one waits for etcd's answer.
      assert.equal(await closed.ready, kv.backend === 'embedded', 'ready says whether it got in place before it ended');
    });

    it('watch sees only its prefix, and a transaction arrives as one batch', async () => {
      fresh();
      const from = (await kv.revision()) + 1;
      const watch = kv.watch(`${p}in/`, { fromRevision: from });
      await kv.put(`${p}out/1`, 'x');
      await kv.txn({
        compare: [],
        success: [
          { op: 'put', key: `${p}in/a`, value: '1' },
          { op: 'put', key: `${p}out/2`, value: '2' },
          { op: 'put', key: `${p}in/b`, value: '3' },
        ],
      });
      const { batches } = await collectEvents(watch, 2);
      assert.equal(batches.length, 1);
      assert.deepEqual(batches[0]?.events.map(keyOf), [`${p}in/a`, `${p}in/b`]);
      watch.close();
    });

    it('closing a watch ends its iteration', async () => {
      fresh();
      const watch = kv.watch(p, { fromRevision: (await kv.revision()) + 1 });
      const pending = watch[Symbol.asyncIterator]().next();
      watch.close();
      assert.deepEqual(await pending, { value: undefined, done: true });
      const ac = new AbortController();
      const w2 = kv.watch(p, { fromRevision: 0, signal: ac.signal });
      const pending2 = w2[Symbol.asyncIterator]().next();
      ac.abort();
      assert.equal((await pending2).done, true);
    });

    it('compaction: a watch from before it fails with the compact revision; from it works', async () => {
      fresh();
      const first = (await kv.put(`${p}c`, '1')).revision;
      await kv.put(`${p}c`, '2');
      const at = (await kv.put(`${p}c`, '3')).revision;
      await kv.put(`${p}c`, '4');
      await kv.compact(at);
      await assert.rejects(collectEvents(kv.watch(p, { fromRevision: first }), 1), (err: unknown) => {
        assert.ok(err instanceof CompactedError, String(err));
        assert.ok(err.compactRevision >= at, `compact revision ${err.compactRevision} >= ${at}`);
        return true;
      });
      const ok = await collectEvents(kv.watch(p, { fromRevision: at }), 2);
      assert.deepEqual(
        ok.events.map((e) => (e.type === 'put' ? e.kv.value : '')),
        ['3', '4'],
      );
      await assert.rejects(kv.compact(at), CompactedError, 'compacting again at the same revision is refused');
      assert.deepEqual(
        (await kv.list(p)).items.map((i) => i.value),
        ['4'],
        'current state survives compaction',
      );
    });

    it('a lease that is not kept alive expires and deletes its keys', async () => {
      fresh();
      const lease = await kv.grantLease(2);
      assert.ok(lease.ttlSeconds >= 2);
      await kv.put(`${p}leased`, 'x', { lease: lease.id });
      await kv.put(`${p}kept`, 'y');
      assert.equal((await kv.get(`${p}leased`))?.lease, lease.id);
      const watch = kv.watch(p, { fromRevision: (await kv.revision()) + 1 });
      const t0 = Date.now();
      const { events } = await collectEvents(watch, 1, 15_000);
      const waited = Date.now() - t0;
      assert.ok(events[0]?.type === 'delete' && events[0].key === `${p}leased`);
      assert.ok(waited >= 1000, `expired after ${waited} ms, not before the TTL`);
      assert.equal(await kv.get(`${p}leased`), undefined);
      assert.equal((await kv.get(`${p}kept`))?.value, 'y');
      await assert.rejects(kv.keepAliveLease(lease.id), LeaseNotFoundError);
      watch.close();
    });

    it('keep-alive holds a lease past its TTL; revoke deletes its keys at once', async () => {
      fresh();
      const lease = await kv.grantLease(2);
      await kv.put(`${p}held`, 'x', { lease: lease.id });
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 500));
        assert.ok((await kv.keepAliveLease(lease.id)) >= 1);
      }
      assert.equal((await kv.get(`${p}held`))?.value, 'x', 'still there after 3 s on a 2 s lease');
      await kv.revokeLease(lease.id);
      assert.equal(await kv.get(`${p}held`), undefined);
      await kv.revokeLease(lease.id);
    });

    it('writes on unknown leases are refused', async () => {
      fresh();
      await assert.rejects(kv.put(`${p}x`, 'y', { lease: '987654321' }), LeaseNotFoundError);
      await assert.rejects(kv.keepAliveLease('987654321'), LeaseNotFoundError);
      assert.equal(await kv.get(`${p}x`), undefined);
    });

    it('a lease held by a process that is killed expires after its TTL', async () => {
      fresh();
      const holder = spawnKvChild(target.config, ['hold-lease', `${p}status`, '2']);
      assert.equal((await holder.next())['ready'], true);
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal((await kv.get(`${p}status`))?.value, 'held', 'kept alive while the holder lives');
      const watch = kv.watch(p, { fromRevision: (await kv.revision()) + 1 });
      await holder.kill('SIGKILL');
      const { events } = await collectEvents(watch, 1, 15_000);
      assert.ok(events[0]?.type === 'delete' && events[0].key === `${p}status`);
      watch.close();
    });

    it("a watch sees another process's writes", async () => {
      fresh();
      const watch = kv.watch(p, { fromRevision: (await kv.revision()) + 1 });
      const writer = spawnKvChild(target.config, ['put', `${p}from-child`, 'hello']);
      const [line] = await writer.finish();
      const { events, batches } = await collectEvents(watch, 1);
      assert.ok(events[0]?.type === 'put' && events[0].kv.value === 'hello');
      assert.equal(batches[0]?.revision, line?.['revision']);
      watch.close();
    });

    it('another process watching sees our writes', async () => {
      fresh();
      const from = (await kv.revision()) + 1;
      const watcher = spawnKvChild(target.config, ['watch', p, String(from), '3']);
      assert.equal((await watcher.next())['ready'], true);
      await kv.put(`${p}1`, 'a');
      await kv.put(`${p}2`, 'b');
      await kv.delete(`${p}1`);
      const lines = await watcher.finish();
      assert.deepEqual(
        lines.slice(1).map((l) => `${String(l['type'])} ${String(l['key'])}`),
        [`put ${p}1`, `put ${p}2`, `delete ${p}1`],
      );
    });
  });
}
