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
    assert.equal((JSON.parse(stored?.value ?? '{}') as { metadata: Record<string, unknown> }).metadata['resourceVersion'], undefined, 'resourceVersion is not stored');
    assert.equal(got?.metadata.resourceVersion, String(stored?.modRevision));
    await assert.rejects(client.create(policy('a')), ResourceExistsError);
    const list = await client.list('NetworkPolicy');
    assert.deepEqual(list.items.map((p) => p.metadata.name), ['a']);
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
    await assert.rejects(client.commit([{ action: 'create', resource: policy('b') }, { action: 'create', resource: policy('a') }]), ResourceExistsError);
    await assert.rejects(
      client.commit([{ action: 'create', resource: policy('b') }, { action: 'create', resource: policy('c', { ingress: [{ action: 'Nope' } as never] }) }]),
      ValidationError,
    );
    assert.equal(await kv.revision(), before, 'nothing written');
    assert.equal(await client.get('NetworkPolicy', 'b', 'openstack'), undefined);
    const written = await client.commit([{ action: 'create', resource: policy('b') }, { action: 'apply', resource: policy('c') }]);
    assert.equal(written.length, 2);
    assert.equal(written[0]?.metadata.resourceVersion, written[1]?.metadata.resourceVersion, 'one revision for the batch');
  });

  it('delete returns what it removed; deleting twice is not found', async () => {
    const deleted = await client.delete('NetworkPolicy', 'b', 'openstack');
    assert.equal(deleted.metadata.name, 'b');
    await assert.rejects(client.delete('NetworkPolicy', 'b', 'openstack'), ResourceNotFoundError);
    await assert.rejects(client.delete('NetworkPolicy', 'c', 'openstack', '1'), ResourceConflictError);
  });

  it('reports corrupt stored values without failing the list', async () => {
    await kv.put('/calico/resources/v3/projectcalico.org/networkpolicies/openstack/bad', '{not json');
    const list = await client.list('NetworkPolicy', 'openstack');
    assert.deepEqual(list.items.map((p) => p.metadata.name).sort(), ['a', 'c']);
    assert.equal(list.invalid.length, 1);
    assert.ok(list.invalid[0]?.error instanceof InvalidStoredValueError);
    await assert.rejects(client.get('NetworkPolicy', 'bad', 'openstack'), InvalidStoredValueError);
    // A corrupt value can still be overwritten.
    const fixed = await client.apply(policy('bad'));
    assert.equal(fixed.metadata.name, 'bad');
  });

  it('concurrent applies of one resource all land, none lost to a race', async () => {
    const clients = [0, 1, 2, 3].map(() => new ResourceClient(kv));
    await Promise.all(clients.map((c, i) => c.apply(policy('raced', { order: i }))));
    const final = await client.get('NetworkPolicy', 'raced', 'openstack');
    assert.ok([0, 1, 2, 3].includes(final?.spec.order ?? -1));
  });
});
