import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatastore, type KvStore } from '../../datastore/index.js';
import { startTestEtcd, type TestEtcd } from '../../datastore/testing/index.js';
import { eventually } from '../../lib/testing.js';
import { startTestApi, type TestApi } from '../testing/index.js';

describe('/healthcheck (oslo.middleware, as neutron-server serves it), on a real etcd', () => {
  let etcd: TestEtcd;
  let kv: KvStore;
  let api: TestApi;
  before(async () => {
    etcd = await startTestEtcd();
    kv = await openDatastore(etcd.config);
    api = await startTestApi(kv, { background: false });
  });
  after(async () => {
    await api?.close();
    await kv?.close();
    await etcd?.stop();
  });

  const check = async (method = 'GET'): Promise<{ status: number; text: string }> => {
    const r = await fetch(`${api.url}/healthcheck`, { method });
    return { status: r.status, text: await r.text() };
  };

  it('answers OK without a token while etcd answers, 503 while it is down, OK again after', async () => {
    assert.deepEqual(await check(), { status: 200, text: 'OK' });
    assert.equal((await check('HEAD')).status, 200);
    await etcd.pause();
    try {
      assert.deepEqual(await check(), { status: 503, text: 'DATASTORE UNAVAILABLE' });
    } finally {
      await etcd.restart();
    }
    await eventually(async () => (await check()).status === 200, { timeoutMs: 20_000, what: 'healthy again' });
  });
});
