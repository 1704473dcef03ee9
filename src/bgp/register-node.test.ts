import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDatastore, ResourceClient, type KvStore } from '../datastore/index.js';
import { realFs } from '../lib/index.js';
import { trackTempDir, untrackTempDir } from '../lib/testing.js';
import { BgpAddressConflictError } from './errors.js';
import { registerNode } from './register-node.js';

// Against the real embedded datastore: what brindle node does at start.

describe('registerNode', () => {
  const fs = realFs();
  let dir = '';
  let kv: KvStore;
  let client: ResourceClient;

  before(async () => {
    dir = await fs.makeTempDir('brindle-register-');
    trackTempDir(dir);
    kv = await openDatastore({ kind: 'embedded', path: join(dir, 'ds') });
    client = new ResourceClient(kv);
  });

  after(async () => {
    await kv?.close();
    await fs.remove(dir);
    untrackTempDir(dir);
  });

  it('creates the Node with its addresses and an openstack orchRef', async () => {
    const n = await registerNode(client, { hostname: 'compute-1', ipv4Address: '198.19.0.1/24', ipv6Address: '2001:db8:ffff::1/64' });
    assert.deepEqual(n.spec.bgp, { ipv4Address: '198.19.0.1/24', ipv6Address: '2001:db8:ffff::1/64' });
    assert.deepEqual(n.spec.orchRefs, [{ nodeName: 'compute-1', orchestrator: 'openstack' }]);
    assert.equal((await client.get('Node', 'compute-1'))?.spec.bgp?.ipv4Address, '198.19.0.1/24');
  });

  it('keeps what an operator set (labels, reflector cluster id, AS) and moves the address', async () => {
    const stored = await client.get('Node', 'compute-1');
    assert.ok(stored !== undefined);
    await client.commit([
      {
        action: 'replace',
        resource: {
          ...stored,
          metadata: { ...stored.metadata, labels: { rack: 'r1' } },
          spec: { ...stored.spec, bgp: { ...stored.spec.bgp, routeReflectorClusterID: '224.0.0.1', asNumber: 65010 } },
        },
      },
    ]);
    const n = await registerNode(client, { hostname: 'compute-1', ipv4Address: '198.19.0.11/24' });
    assert.deepEqual(n.metadata.labels, { rack: 'r1' });
    assert.deepEqual(n.spec.bgp, { ipv4Address: '198.19.0.11/24', routeReflectorClusterID: '224.0.0.1', asNumber: 65010 });
  });

  it('does not rewrite a Node that is already right', async () => {
    const before = await client.get('Node', 'compute-1');
    await registerNode(client, { hostname: 'compute-1', ipv4Address: '198.19.0.11/24' });
    assert.equal((await client.get('Node', 'compute-1'))?.metadata.resourceVersion, before?.metadata.resourceVersion);
  });

  it('refuses an address another node claims, naming both, and writes nothing', async () => {
    const rev = (await kv.get('/calico/resources/v3/projectcalico.org/nodes/compute-2'))?.modRevision;
    await assert.rejects(registerNode(client, { hostname: 'compute-2', ipv4Address: '198.19.0.11' }), (err: unknown) => {
      assert.ok(err instanceof BgpAddressConflictError);
      assert.match(err.message, /198\.19\.0\.11 of node compute-2 is already claimed by node compute-1/);
      return true;
    });
    assert.equal(rev, undefined);
    assert.equal(await client.get('Node', 'compute-2'), undefined);
  });
});
