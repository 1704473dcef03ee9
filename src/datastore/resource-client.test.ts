import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { realFs } from '../lib/index.js';
import { ValidationError, type NetworkPolicy } from '../model/index.js';
import { EmbeddedStore } from './embedded/embedded-store.js';
import { InvalidStoredValueError, ResourceConflictError, ResourceExistsError, ResourceNotFoundError } from './errors.js';
import { ResourceClient } from './resource-client.js';

const fs = realFs();

function policy(name: string, extra: Partial<NetworkPolicy['spec']> = {}): NetworkPolicy {
  return {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: 'openstack' },
    spec: { selector: `has(sg.projectcalico.org/openstack-${name})`, ingress: [{ action: 'Allow', ipVersion: 4 }], ...extra },
  };
}

describe('ResourceClient (on the embedded store)', () => {
  let dir: string;
  let kv: EmbeddedStore;
  let client: ResourceClient;
  let uids = 0;
  before(async () => {
    dir = await fs.makeTempDir('brindle-rc-');
    kv = new EmbeddedStore({ dir });
    client = new ResourceClient(kv, { newUid: () => `uid-${++uids}` });
  });
  after(async () => {
    await kv.close();
    await fs.remove(dir);
  });

  it('creates, gets and lists with uid, creationTimestamp and resourceVersion', async () => {
    const created = await client.create(policy('a'));
    assert.equal(created.metadata.uid, 'uid-1');
    assert.match(created.metadata.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const got = await client.get('NetworkPolicy', 'a', 'openstack');
    assert.deepEqual(got, created);
    const stored = await kv.get('/calico/resources/v3/projectcalico.org/networkpolicies/openstack/a');
    assert.equal(
      (JSON.parse(stored?.value ?? '{}') as { metadata: Record<string, unknown> }).metadata['resourceVersion'],
      undefined,
      'resourceVersion is not stored',
    );
    assert.equal(got?.metadata.resourceVersion, String(stored?.modRevision));
    await assert.rejects(client.create(policy('a')), ResourceExistsError);
    const list = await client.list('NetworkPolicy');
    assert.deepEqual(
      list.items.map((p) => p.metadata.name),
      ['a'],
    );
  });

  it('update is compare-and-swap on resourceVersion and keeps uid and creationTimestamp', async () => {
    const a = await client.get('NetworkPolicy', 'a', 'openstack');
    assert.ok(a);
    const updated = await client.update({ ...a, spec: { ...a.spec, order: 10 } });
    assert.equal(updated.spec.order, 10);
    assert.equal(updated.metadata.uid, a.metadata.uid);
    assert.equal(updated.metadata.creationTimestamp, a.metadata.creationTimestamp);
    await assert.rejects(client.update({ ...a, spec: { ...a.spec, order: 20 } }), ResourceConflictError, 'the stale version loses');
    await assert.rejects(client.update(policy('nope')), ResourceNotFoundError);
    const applied = await client.apply({ ...policy('a'), spec: { ...policy('a').spec, order: 30 } });
    assert.equal(applied.metadata.uid, a.metadata.uid, 'apply keeps the uid');
    assert.equal((await client.get('NetworkPolicy', 'a', 'openstack'))?.spec.order, 30);
  });

  it('a commit is all or nothing', async () => {
    const before = await kv.revision();
    await assert.rejects(
      client.commit([
        { action: 'create', resource: policy('b') },
        { action: 'create', resource: policy('a') },
      ]),
      ResourceExistsError,
    );
    await assert.rejects(
      client.commit([
        { action: 'create', resource: policy('b') },
        { action: 'create', resource: policy('c', { ingress: [{ action: 'Nope' } as never] }) },
      ]),
      ValidationError,
    );
    assert.equal(await kv.revision(), before, 'nothing written');
    assert.equal(await client.get('NetworkPolicy', 'b', 'openstack'), undefined);
    const written = await client.commit([
      { action: 'create', resource: policy('b') },
      { action: 'apply', resource: policy('c') },
    ]);
    assert.equal(written.length, 2);
    assert.equal(written[0]?.resource?.metadata.resourceVersion, written[1]?.resource?.metadata.resourceVersion, 'one revision for the batch');
  });

  it('a batch larger than one transaction is checked whole before anything is written', async () => {
    const small = new ResourceClient(kv, { maxOpsPerTxn: 3 });
    const before = await kv.revision();
    const ops = Array.from({ length: 8 }, (_, i) => ({ action: 'create' as const, resource: policy(i === 7 ? 'a' : `batch-${i}`) }));
    await assert.rejects(small.commit(ops), ResourceExistsError, 'the 8th already exists');
    assert.equal(await kv.revision(), before, 'not even the first chunk was written');
    const good = await small.commit(ops.slice(0, 7));
    assert.equal(good.filter((o) => o.result === 'written').length, 7);
  });

  it('create and delete can skip what exists or is gone', async () => {
    const created = await client.commit(
      [
        { action: 'create', resource: policy('a') },
        { action: 'create', resource: policy('skip-new') },
      ],
      { skipExisting: true },
    );
    assert.deepEqual(
      created.map((o) => o.result),
      ['skipped', 'written'],
    );
    const gone = { kind: 'NetworkPolicy' as const, name: 'never-was', namespace: 'openstack' };
    await assert.rejects(client.commit([{ action: 'delete', ref: gone }]), ResourceNotFoundError);
    const deleted = await client.commit(
      [
        { action: 'delete', ref: gone },
        { action: 'delete', ref: { kind: 'NetworkPolicy', name: 'skip-new', namespace: 'openstack' } },
      ],
      { skipMissing: true },
    );
    assert.deepEqual(
      deleted.map((o) => o.result),
      ['skipped', 'deleted'],
    );
  });

  it('a stale resourceVersion never resurrects a deleted resource, and create refuses one', async () => {
    const made = await client.create(policy('zombie'));
    await client.delete('NetworkPolicy', 'zombie', 'openstack');
    await assert.rejects(client.apply(made), ResourceConflictError);
    await assert.rejects(client.update(made), ResourceConflictError);
    await assert.rejects(client.create(made), /resourceVersion must not be set on create/);
    assert.equal(await client.get('NetworkPolicy', 'zombie', 'openstack'), undefined);
  });

  it('delete returns what it removed; deleting twice is not found', async () => {
    const deleted = await client.delete('NetworkPolicy', 'b', 'openstack');
    assert.equal(deleted?.metadata.name, 'b');
    await assert.rejects(client.delete('NetworkPolicy', 'b', 'openstack'), ResourceNotFoundError);
    await assert.rejects(client.delete('NetworkPolicy', 'c', 'openstack', '1'), ResourceConflictError);
  });

  it('reports corrupt stored values without failing the list', async () => {
    await kv.put('/calico/resources/v3/projectcalico.org/networkpolicies/openstack/bad', '{not json');
    const list = await client.list('NetworkPolicy', 'openstack');
    const names = list.items.map((p) => p.metadata.name);
    assert.ok(names.includes('a') && names.includes('c') && !names.includes('bad'));
    assert.equal(list.invalid.length, 1);
    assert.ok(list.invalid[0]?.error instanceof InvalidStoredValueError);
    await assert.rejects(client.get('NetworkPolicy', 'bad', 'openstack'), InvalidStoredValueError);
    // A corrupt value can still be overwritten, or deleted.
    const fixed = await client.apply(policy('bad'));
    assert.equal(fixed.metadata.name, 'bad');
    await kv.put('/calico/resources/v3/projectcalico.org/networkpolicies/openstack/bad', '{not json either');
    const [outcome] = await client.commit([{ action: 'delete', ref: { kind: 'NetworkPolicy', name: 'bad', namespace: 'openstack' } }]);
    assert.equal(outcome?.result, 'deleted');
    assert.equal(outcome?.resource, undefined, 'nothing to decode');
    assert.equal(await kv.get('/calico/resources/v3/projectcalico.org/networkpolicies/openstack/bad'), undefined);
  });

  it('writeIfUnchanged writes only over the entry it saw, keeping uid', async () => {
    const id = { kind: 'NetworkPolicy', name: 'w', namespace: 'openstack' } as const;
    const seen = await client.readEntry('NetworkPolicy', 'w', 'openstack');
    assert.equal(seen, undefined);
    assert.equal(await client.writeIfUnchanged(id, seen, policy('w')), true);
    assert.equal(await client.writeIfUnchanged(id, seen, policy('w')), false, 'stale: it exists now');
    const now = await client.readEntry('NetworkPolicy', 'w', 'openstack');
    const uid = (await client.get('NetworkPolicy', 'w', 'openstack'))?.metadata.uid;
    assert.equal(await client.writeIfUnchanged(id, now, policy('w', { order: 5 })), true);
    const after = await client.get('NetworkPolicy', 'w', 'openstack');
    assert.equal(after?.spec.order, 5);
    assert.equal(after?.metadata.uid, uid);
    assert.equal(await client.writeIfUnchanged(id, now, undefined), false, 'a stale delete loses');
    assert.equal(await client.writeIfUnchanged(id, await client.readEntry('NetworkPolicy', 'w', 'openstack'), undefined), true);
    assert.equal(await client.get('NetworkPolicy', 'w', 'openstack'), undefined);
  });

  it('concurrent applies of one resource all land, none lost to a race', async () => {
    const clients = [0, 1, 2, 3].map(() => new ResourceClient(kv));
    const results = await Promise.all(clients.map((c, i) => c.apply(policy('raced', { order: i }))));
    const versions = new Set(results.map((r) => r.metadata.resourceVersion));
    assert.equal(versions.size, 4, 'four separate writes, one after another');
    const final = await client.get('NetworkPolicy', 'raced', 'openstack');
    const last = results.reduce((a, b) => (Number(a.metadata.resourceVersion) > Number(b.metadata.resourceVersion) ? a : b));
    assert.equal(final?.spec.order, last.spec.order, 'the last write wins');
  });
});
