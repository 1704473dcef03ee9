import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realFs } from '../../lib/index.js';
import { FakeClock } from '../../lib/testing.js';
import { DatastoreUnavailableError } from '../errors.js';
import { runKvContract } from '../kv-contract.js';
import { spawnKvChild } from '../testing/kv-child-process.js';
import { EmbeddedStore } from './embedded-store.js';

const fs = realFs();

runKvContract('embedded', async () => {
  const dir = await fs.makeTempDir('brindle-kv-');
  return {
    config: { kind: 'embedded', path: dir },
    open: () => Promise.resolve(new EmbeddedStore({ dir, pollMs: 50 })),
    teardown: () => fs.remove(dir),
  };
});

describe('embedded store specifics', () => {
  it('survives a writer killed mid-write: every acknowledged write is there, nothing is torn', async () => {
    const dir = await fs.makeTempDir('brindle-kv-crash-');
    try {
      const writer = spawnKvChild({ kind: 'embedded', path: dir }, ['write-forever', '/crash/']);
      let acked = -1;
      while (acked < 300) acked = Number((await writer.next())['ack']);
      await writer.kill('SIGKILL');
      const store = new EmbeddedStore({ dir });
      try {
        const { items, revision } = await store.list('/crash/');
        assert.ok(items.length >= acked + 1, `${items.length} keys, ${acked + 1} acknowledged`);
        items.forEach((kv) => assert.equal((JSON.parse(kv.value) as { pad: string }).pad.length, 200));
        const keys = new Set(items.map((i) => i.key));
        for (let i = 0; i < items.length; i++) assert.ok(keys.has(`/crash/${i}`), `no gap at ${i}`);
        assert.equal(Math.max(...items.map((i) => i.modRevision)), revision);
        // The store still takes writes after the crash.
        assert.equal((await store.put('/crash/after', 'ok')).succeeded, true);
      } finally {
        await store.close();
      }
    } finally {
      await fs.remove(dir);
    }
  });

  it('expires leases by the injected clock', async () => {
    const dir = await fs.makeTempDir('brindle-kv-clock-');
    const clock = new FakeClock();
    const store = new EmbeddedStore({ dir, clock, leaseSweepMs: 100 });
    try {
      const lease = await store.grantLease(10);
      await store.put('/l/a', 'x', { lease: lease.id });
      await clock.advance(9_000);
      assert.equal((await store.get('/l/a'))?.value, 'x');
      await store.keepAliveLease(lease.id);
      await clock.advance(9_000);
      assert.equal((await store.get('/l/a'))?.value, 'x', 'renewed at 9 s, so alive at 18 s');
      await clock.advance(1_200);
      assert.equal(await store.get('/l/a'), undefined);
    } finally {
      await store.close();
      await fs.remove(dir);
    }
  });

  it('compacts history automatically beyond its retention', async () => {
    const dir = await fs.makeTempDir('brindle-kv-hist-');
    const store = new EmbeddedStore({ dir, historyRevisions: 500 });
    try {
      for (let i = 0; i < 1000; i++) await store.put('/h/k', String(i));
      const watch = store.watch('/h/', { fromRevision: 2 });
      await assert.rejects(watch[Symbol.asyncIterator]().next(), /has been compacted/);
    } finally {
      await store.close();
      await fs.remove(dir);
    }
  });

  it('reports a closed store as unavailable', async () => {
    const dir = await fs.makeTempDir('brindle-kv-closed-');
    try {
      const store = new EmbeddedStore({ dir });
      await store.close();
      await assert.rejects(store.get('/x'), DatastoreUnavailableError);
    } finally {
      await fs.remove(dir);
    }
  });
});
