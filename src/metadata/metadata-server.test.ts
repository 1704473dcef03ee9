import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, silentLogger } from '../lib/index.js';
import { InstanceNotFoundError } from './errors.js';
import type { Instance } from './instance-lookup.js';
import { ec2Listing, ec2MetaData } from './metadata-documents.js';
import { startMetadataServer, type RunningMetadataServer } from './metadata-server.js';

const VM: Instance = {
  uuid: '6f1c2b8e-0000-4000-8000-000000000001',
  projectId: 'p1',
  portId: 'port-1234',
  name: 'Web Server 1',
  mac: 'fa:16:3e:00:00:01',
  host: 'compute-1',
  fixedIps: ['198.18.0.10', '2001:db8::10'],
};

describe('metadata service (HTTP, the lookup seam; the real path is in src/lab/dhcp-e2e)', () => {
  let server: RunningMetadataServer;
  let unreachable: RunningMetadataServer;

  before(async () => {
    // Requests come from 127.0.0.1 here: the seam maps it to the VM, or to no instance.
    server = await startMetadataServer({
      listen: { host: '127.0.0.1', port: await freePort() },
      neutron: { url: 'http://127.0.0.1:1' },
      logger: silentLogger(),
      lookup: (address) => (address === '127.0.0.1' ? Promise.resolve(VM) : Promise.reject(new InstanceNotFoundError(address))),
    });
    // The real lookup against a Neutron that is not there.
    unreachable = await startMetadataServer({
      listen: { host: '127.0.0.1', port: await freePort() },
      neutron: { url: `http://127.0.0.1:${await freePort()}` },
      logger: silentLogger(),
    });
  });

  after(async () => {
    await server?.close();
    await unreachable?.close();
  });

  it('serves meta_data.json with the instance uuid, project and a sanitized hostname', async () => {
    const r = await fetch(`${server.url}/openstack/latest/meta_data.json`);
    assert.equal(r.status, 200);
    const doc = (await r.json()) as Record<string, unknown>;
    assert.equal(doc['uuid'], VM.uuid);
    assert.equal(doc['project_id'], 'p1');
    assert.equal(doc['hostname'], 'web-server-1');
    assert.equal((await fetch(`${server.url}/openstack/2099-01-01/meta_data.json`)).status, 404, 'an unknown version');
  });

  it('serves EC2-style items and directory listings', async () => {
    assert.equal(await (await fetch(`${server.url}/latest/meta-data/instance-id`)).text(), VM.uuid);
    assert.equal(await (await fetch(`${server.url}/2009-04-04/meta-data/local-ipv4`)).text(), '198.18.0.10');
    assert.equal(await (await fetch(`${server.url}/latest/meta-data/placement/availability-zone`)).text(), 'nova');
    assert.match(await (await fetch(`${server.url}/latest/meta-data/`)).text(), /^placement\/$/m);
    assert.equal((await fetch(`${server.url}/latest/meta-data/nothing-here`)).status, 404);
  });

  it('answers 503 with a reason when Neutron cannot be reached, never another instance', async () => {
    const r = await fetch(`${unreachable.url}/openstack/latest/meta_data.json`);
    assert.equal(r.status, 503);
    assert.match(await r.text(), /cannot reach Neutron/);
  });

  it('lists EC2 directories one level at a time', () => {
    const items = ec2MetaData(VM);
    assert.deepEqual(ec2Listing(items, 'placement'), ['availability-zone']);
    assert.equal(ec2Listing(items, 'nope'), undefined);
  });
});
