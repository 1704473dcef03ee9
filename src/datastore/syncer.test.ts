import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realFs, type Fs } from '../lib/index.js';
import { EmbeddedStore } from './embedded/embedded-store.js';
import type { KvStore } from './kv-store.js';
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

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
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
    await kv.put('/a/1', 'x');
    await kv.put('/b/1', 'y');
    await kv.put('/c/1', 'not followed');
    const c = consumer();
    const syncer = new Syncer({ kv, prefixes: ['/a/', '/b/'], ...c });
    syncer.start();
    await syncer.waitInSync();
    assert.deepEqual(c.statuses, ['waiting', 'in-sync']);
    assert.deepEqual([...c.view].sort(), [['/a/1', 'x'], ['/b/1', 'y']]);
    await kv.put('/a/2', 'z');
    await kv.delete('/a/1');
    await kv.put('/c/2', 'ignored');
    await until(() => c.view.has('/a/2') && !c.view.has('/a/1'));
    assert.deepEqual([...c.view.keys()].sort(), ['/a/2', '/b/1']);
    assert.equal(c.updates.length, 4);
    await syncer.stop();
    await kv.close();
  });

  it('after a compaction it missed, re-lists and reports only the differences', async () => {
    // The syncer's store hears about other writers only through a slow timer, so a second
    // connection can write and compact history the syncer has not read yet.
    const deaf: Fs = { ...realFs(), watchDir: () => ({ close: () => {} }) };
    const slow = new EmbeddedStore({ dir, fs: deaf, pollMs: 1_500 });
    const other = new EmbeddedStore({ dir });
    await other.deletePrefix('/x/');
    for (const k of ['keep', 'change', 'drop']) await other.put(`/x/${k}`, 'v1');
    const c = consumer();
    const syncer = new Syncer({ kv: slow, prefixes: ['/x/'], ...c });
    syncer.start();
    await syncer.waitInSync();
    const told = c.updates.length;
    await other.put('/x/change', 'v2');
    await other.delete('/x/drop');
    await other.put('/x/new', 'v1');
    await other.compact(await other.revision());
    await until(() => c.statuses.includes('resyncing') && syncer.status === 'in-sync' && c.view.has('/x/new'));
    const after = c.updates.slice(told).map((u) => `${u.key}=${u.value ?? '(deleted)'}`).sort();
    assert.deepEqual(after, ['/x/change=v2', '/x/drop=(deleted)', '/x/new=v1'], 'no duplicate for /x/keep, nothing lost');
    assert.deepEqual(c.view, await contents(other, '/x/'));
    await syncer.stop();
    await slow.close();
    await other.close();
  });

  it('periodic resync changes nothing when nothing changed', async () => {
    const kv = new EmbeddedStore({ dir });
    await kv.put('/p/1', 'x');
    const c = consumer();
    const syncer = new Syncer({ kv, prefixes: ['/p/'], resyncIntervalMs: 100, ...c });
    syncer.start();
    await syncer.waitInSync();
    await new Promise((r) => setTimeout(r, 450));
    assert.equal(c.updates.length, 1);
    assert.deepEqual(c.statuses, ['waiting', 'in-sync']);
    await syncer.stop();
    await kv.close();
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
    await kv.put('/e/1', 'one');
    const c = consumer();
    const syncer = new Syncer({ kv, prefixes: ['/e/'], backoff: { initialMs: 50, maxMs: 500, factor: 2 }, ...c });
    syncer.start();
    await syncer.waitInSync();
    await etcd.pause();
    await until(() => syncer.status === 'resyncing', 15_000);
    assert.deepEqual([...c.view], [['/e/1', 'one']], 'the consumer keeps what it had while etcd is down');
    await etcd.restart();
    await until(() => syncer.status === 'in-sync', 30_000);
    await kv.put('/e/2', 'two');
    await until(() => c.view.get('/e/2') === 'two', 15_000);
    assert.deepEqual(c.view, await contents(kv, '/e/'));
    assert.equal(c.updates.filter((u) => u.key === '/e/1').length, 1, 'no duplicate after the re-list');
    await syncer.stop();
    await kv.close();
  });
});
