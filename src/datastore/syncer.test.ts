import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realFs, type Fs } from '../lib/index.js';
import { eventually, FakeClock } from '../lib/testing.js';
import { EmbeddedStore } from './embedded/embedded-store.js';
import { DatastoreUnavailableError } from './errors.js';
import type { KvStore, Watch, WatchOptions } from './kv-store.js';
import { openDatastore } from './open-datastore.js';
import { Syncer, type SyncStatus, type SyncUpdate } from './syncer.js';
import { startTestEtcd, type TestEtcd } from './testing/etcd-server.js';

const fs = realFs();

/** A consumer that applies updates to a map and records everything it was told. */
function consumer() {
  const view = new Map<string, string>();
  const updates: SyncUpdate[] = [];
  const statuses: SyncStatus[] = [];
  return {
    view,
    updates,
    statuses,
    onUpdates: (batch: readonly SyncUpdate[]) => {
      for (const u of batch) {
        updates.push(u);
        if (u.value === undefined) view.delete(u.key);
        else view.set(u.key, u.value);
      }
    },
    onStatus: (s: SyncStatus) => statuses.push(s),
  };
}

async function contents(kv: KvStore, prefix: string): Promise<Map<string, string>> {
  return new Map((await kv.list(prefix)).items.map((i) => [i.key, i.value]));
}

describe('Syncer on the embedded store', () => {
  let dir: string;
  before(async () => {
    dir = await fs.makeTempDir('brindle-sync-');
  });
  after(async () => {
    await fs.remove(dir);
  });

  it('lists, then follows; reports waiting → in-sync; only its prefixes', async () => {
    const kv = new EmbeddedStore({ dir });
    const c = consumer();
    const syncer = new Syncer({ kv, prefixes: ['/a/', '/b/'], ...c });
    try {
      await kv.put('/a/1', 'x');
      await kv.put('/b/1', 'y');
      await kv.put('/c/1', 'not followed');
      syncer.start();
      await syncer.waitInSync();
      assert.deepEqual(c.statuses, ['waiting', 'in-sync']);
      assert.deepEqual([...c.view].sort(), [
        ['/a/1', 'x'],
        ['/b/1', 'y'],
      ]);
      await kv.put('/a/2', 'z');
      await kv.delete('/a/1');
      await kv.put('/c/2', 'ignored');
      await eventually(() => c.view.has('/a/2') && !c.view.has('/a/1'));
      assert.deepEqual([...c.view.keys()].sort(), ['/a/2', '/b/1']);
      assert.equal(c.updates.length, 4);
    } finally {
      await syncer.stop();
      await kv.close();
    }
  });

  it('after a compaction it missed, re-lists and reports only the differences', async () => {
    // The syncer's store hears about other writers only through its poll timer, which runs on
    // a fake clock: so a second connection can write and compact history the syncer has not
    // read, and the test decides when the syncer's store looks.
    const clock = new FakeClock();
    const deaf: Fs = { ...realFs(), watchDir: () => ({ close: () => {} }) };
    const slow = new EmbeddedStore({ dir, fs: deaf, clock, pollMs: 1_000 });
    const other = new EmbeddedStore({ dir });
    const c = consumer();
    const syncer = new Syncer({ kv: slow, prefixes: ['/x/'], ...c });
    try {
      await other.deletePrefix('/x/');
      for (const k of ['keep', 'change', 'drop']) await other.put(`/x/${k}`, 'v1');
      syncer.start();
      await syncer.waitInSync();
      const told = c.updates.length;
      await other.put('/x/change', 'v2');
      await other.delete('/x/drop');
      await other.put('/x/new', 'v1');
      await other.compact(await other.revision());
      await clock.advance(1_000);
      await eventually(() => c.statuses.includes('resyncing') && syncer.status === 'in-sync' && c.view.has('/x/new'));
      const after = c.updates
        .slice(told)
        .map((u) => `${u.key}=${u.value ?? '(deleted)'}`)
        .sort();
      assert.deepEqual(after, ['/x/change=v2', '/x/drop=(deleted)', '/x/new=v1'], 'no duplicate for /x/keep, nothing lost');
      assert.deepEqual(c.view, await contents(other, '/x/'));
    } finally {
      await syncer.stop();
      await slow.close();
      await other.close();
    }
  });

  it('periodic resync re-lists, stays in sync, and tells nothing when nothing changed', async () => {
    const kv = new EmbeddedStore({ dir });
    let lists = 0;
    // The real store, with its list() calls counted.
    const counting = new Proxy<KvStore>(kv, {
      get(target, prop) {
        if (prop === 'list') {
          return (prefix: string) => {
            lists++;
            return target.list(prefix);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const c = consumer();
    const syncer = new Syncer({ kv: counting, prefixes: ['/p/'], resyncIntervalMs: 100, ...c });
    try {
      await kv.put('/p/1', 'x');
      syncer.start();
      await syncer.waitInSync();
      await eventually(() => lists >= 4);
      assert.equal(c.updates.length, 1);
      assert.deepEqual(c.statuses, ['waiting', 'in-sync']);
    } finally {
      await syncer.stop();
      await kv.close();
    }
  });

  it('resumes a broken watch from the revision after the last it delivered: no re-list, nothing lost or repeated', async () => {
    const kv = new EmbeddedStore({ dir });
    let lists = 0;
    let breakAfterNext = false;
    const watchedFrom: number[] = [];
    // The real store; its watches break (as a lost connection does) after one batch when told.
    const flaky = new Proxy<KvStore>(kv, {
      get(target, prop) {
        if (prop === 'list') {
          return (prefix: string) => {
            lists++;
            return target.list(prefix);
          };
        }
        if (prop === 'watch') {
          return (prefix: string, options: WatchOptions): Watch => {
            watchedFrom.push(options.fromRevision);
            const inner = target.watch(prefix, options);
            return {
              ready: inner.ready,
              close: () => inner.close(),
              async *[Symbol.asyncIterator]() {
                for await (const batch of inner) {
                  yield batch;
                  if (breakAfterNext) {
                    breakAfterNext = false;
                    inner.close();
                    throw new DatastoreUnavailableError('test: connection lost');
                  }
                }
              },
            };
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const c = consumer();
    const syncer = new Syncer({ kv: flaky, prefixes: ['/r/'], backoff: { initialMs: 20, maxMs: 20, factor: 1 }, ...c });
    try {
      await kv.put('/r/1', 'a');
      syncer.start();
      await syncer.waitInSync();
      breakAfterNext = true;
      const second = await kv.put('/r/2', 'b');
      await eventually(() => watchedFrom.length === 2);
      await kv.put('/r/3', 'c');
      await eventually(() => c.view.has('/r/3') && syncer.status === 'in-sync');
      assert.equal(lists, 1, 'no re-list');
      assert.equal(watchedFrom[1], second.revision + 1, 'resumed right after the last delivered revision');
      assert.deepEqual(
        c.updates.map((u) => u.key),
        ['/r/1', '/r/2', '/r/3'],
        'each change told once, in order',
      );
      assert.deepEqual(c.statuses, ['waiting', 'in-sync', 'resyncing', 'in-sync']);
    } finally {
      await syncer.stop();
      await kv.close();
    }
  });

  it('offers updates again when the consumer failed to take them', async () => {
    const kv = new EmbeddedStore({ dir });
    const c = consumer();
    let failOnce = true;
    const syncer = new Syncer({
      kv,
      prefixes: ['/f/'],
      backoff: { initialMs: 10, maxMs: 20, factor: 1 },
      onStatus: c.onStatus,
      onUpdates: (batch) => {
        if (failOnce && batch.some((u) => u.key === '/f/2')) {
          failOnce = false;
          throw new Error('consumer hiccup');
        }
        c.onUpdates(batch);
      },
    });
    try {
      await kv.put('/f/1', 'a');
      syncer.start();
      await syncer.waitInSync();
      await kv.put('/f/2', 'b');
      await eventually(() => c.view.get('/f/2') === 'b');
      assert.equal(c.updates.filter((u) => u.key === '/f/1').length, 1);
    } finally {
      await syncer.stop();
      await kv.close();
    }
  });
});

describe('Syncer on etcd', () => {
  let etcd: TestEtcd;
  before(async () => {
    etcd = await startTestEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });

  it('rides out etcd going away and coming back: resyncing, then in sync with nothing lost', async () => {
    const kv = await openDatastore(etcd.config);
    const c = consumer();
    const syncer = new Syncer({ kv, prefixes: ['/e/'], backoff: { initialMs: 50, maxMs: 500, factor: 2 }, ...c });
    try {
      await kv.put('/e/1', 'one');
      syncer.start();
      await syncer.waitInSync();
      await etcd.pause();
      await eventually(() => syncer.status === 'resyncing', 15_000);
      assert.deepEqual([...c.view], [['/e/1', 'one']], 'the consumer keeps what it had while etcd is down');
      await etcd.restart();
      await eventually(() => syncer.status === 'in-sync', 30_000);
      await kv.put('/e/2', 'two');
      await eventually(() => c.view.get('/e/2') === 'two', 15_000);
      assert.deepEqual(c.view, await contents(kv, '/e/'));
      assert.equal(c.updates.filter((u) => u.key === '/e/1').length, 1, 'no duplicate after the re-list');
    } finally {
      await syncer.stop();
      await kv.close();
    }
  });
});
