import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { realExec, realFs } from '../../lib/index.js';
import { DatastoreUnavailableError } from '../errors.js';
import { runKvContract } from '../kv-contract.js';
import { openDatastore } from '../open-datastore.js';
import { startTestEtcd, type TestEtcd } from '../testing/etcd-server.js';
import { makeTestCerts } from '../testing/test-certs.js';
import { DatastoreAuthError } from './etcd-errors.js';

const fs = realFs();
const exec = realExec();

runKvContract('etcd', async () => {
  const etcd = await startTestEtcd();
  return { config: etcd.config, open: () => openDatastore(etcd.config), teardown: () => etcd.stop() };
});

describe('etcd over TLS with client certificates', () => {
  let dir: string;
  let etcd: TestEtcd;
  before(async () => {
    dir = await fs.makeTempDir('brindle-etcd-tls-');
    await makeTestCerts(dir, ['server', 'client']);
    etcd = await startTestEtcd({
      tls: { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key'), caFile: join(dir, 'ca.crt'), clientCertAuth: true },
    });
  });
  after(async () => {
    await etcd?.stop();
    await fs.remove(dir);
  });

  it('works with the CA, a client certificate and key', async () => {
    const store = await openDatastore({
      kind: 'etcd',
      endpoints: [etcd.endpoint],
      caFile: join(dir, 'ca.crt'),
      certFile: join(dir, 'client.crt'),
      keyFile: join(dir, 'client.key'),
    });
    try {
      await store.put('/tls/k', 'v');
      assert.equal((await store.get('/tls/k'))?.value, 'v');
    } finally {
      await store.close();
    }
  });

  it('fails clearly without a client certificate', async () => {
    const store = await openDatastore({ kind: 'etcd', endpoints: [etcd.endpoint], caFile: join(dir, 'ca.crt') });
    try {
      await assert.rejects(store.get('/tls/k'), DatastoreUnavailableError);
    } finally {
      await store.close();
    }
  });

  it('refuses TLS files with http:// endpoints, and mismatched cert/key flags', async () => {
    await assert.rejects(openDatastore({ kind: 'etcd', endpoints: ['http://127.0.0.1:1'], caFile: join(dir, 'ca.crt') }), /use https/);
    await assert.rejects(openDatastore({ kind: 'etcd', endpoints: [etcd.endpoint], certFile: join(dir, 'client.crt') }), /go together/);
    await assert.rejects(openDatastore({ kind: 'etcd', endpoints: [etcd.endpoint], caFile: join(dir, 'missing.crt') }), /cannot read CA file/);
  });
});

describe('etcd with user and password', () => {
  let etcd: TestEtcd;
  before(async () => {
    etcd = await startTestEtcd();
    for (const args of [
      ['role', 'add', 'root'],
      ['user', 'add', 'root', '--new-user-password=rootpw'],
      ['user', 'grant-role', 'root', 'root'],
      ['auth', 'enable'],
    ]) {
      const r = await exec.run('etcdctl', ['--endpoints', etcd.endpoint, ...args], { env: { ...process.env, ETCDCTL_API: '3' } });
      assert.equal(r.code, 0, `etcdctl ${args.join(' ')}: ${r.stderr}`);
    }
  });
  after(async () => {
    await etcd?.stop();
  });

  it('reads and writes with the right password', async () => {
    const store = await openDatastore({ kind: 'etcd', endpoints: [etcd.endpoint], username: 'root', password: 'rootpw' });
    try {
      await store.put('/auth/k', 'v');
      assert.equal((await store.get('/auth/k'))?.value, 'v');
    } finally {
      await store.close();
    }
  });

  it('is refused with a wrong password or none', async () => {
    const bad = await openDatastore({ kind: 'etcd', endpoints: [etcd.endpoint], username: 'root', password: 'wrong' });
    const none = await openDatastore({ kind: 'etcd', endpoints: [etcd.endpoint] });
    try {
      await assert.rejects(bad.get('/auth/k'), DatastoreAuthError);
      await assert.rejects(none.get('/auth/k'), DatastoreAuthError);
    } finally {
      await bad.close();
      await none.close();
    }
  });
});

describe('etcd unavailable', () => {
  it('reports an unreachable etcd as DatastoreUnavailableError', async () => {
    const store = await openDatastore({ kind: 'etcd', endpoints: ['http://127.0.0.1:1'] });
    try {
      await assert.rejects(store.get('/x'), DatastoreUnavailableError);
    } finally {
      await store.close();
    }
  });
});
