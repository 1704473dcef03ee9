import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatastore, ResourceClient, type KvStore } from '../../datastore/index.js';
import { realFs } from '../../lib/index.js';
import { dhcpSubnetKey, resourceKey } from '../../model/index.js';
import { fakeAgentAlive, startTestApi } from '../testing/index.js';
import { resync } from './resync.js';

const fs = realFs();
type Json = Record<string, unknown>;
const VM = '6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d';

describe('start-up resync repairs Calico from Neutron, touching nothing else', () => {
  let dir: string;
  let kv: KvStore;
  const ids: Record<string, string> = {};
  before(async () => {
    dir = await fs.makeTempDir('brindle-resync-');
    kv = await openDatastore({ kind: 'embedded', path: dir });
  });
  after(async () => {
    await kv?.close();
    await fs.remove(dir);
  });

  it('repairs a deleted endpoint, a changed policy, stray and missing records; merges cluster settings', async () => {
    const first = await startTestApi(kv, { background: false });
    await first.resyncDone;
    ids['net'] = ((await first.call('POST', '/v2.0/networks', { network: { name: 'n' } })).body['network'] as Json)['id'] as string;
    ids['sub'] = (
      (await first.call('POST', '/v2.0/subnets', { subnet: { network_id: ids['net'], ip_version: 4, cidr: '198.18.60.0/24' } })).body['subnet'] as Json
    )['id'] as string;
    ids['web'] = ((await first.call('POST', '/v2.0/security-groups', { security_group: { name: 'web' } })).body['security_group'] as Json)['id'] as string;
    await first.call('POST', '/v2.0/security-group-rules', {
      security_group_rule: { security_group_id: ids['web'], direction: 'ingress', protocol: 'tcp', port_range_min: 80, port_range_max: 80 },
    });
    await fakeAgentAlive(kv, 'h1');
    const port = (
      await first.call('POST', '/v2.0/ports', {
        port: { network_id: ids['net'], security_groups: [ids['web']], device_owner: 'compute:nova', device_id: VM, 'binding:host_id': 'h1' },
      })
    ).body['port'] as Json;
    ids['port'] = port['id'] as string;
    await first.close();

    const wepName = `h1-openstack-${VM.replaceAll('-', '--')}-${ids['port'].replaceAll('-', '--')}`;
    const wepKey = resourceKey({ kind: 'WorkloadEndpoint', namespace: 'openstack', name: wepName });
    const webKey = resourceKey({ kind: 'NetworkPolicy', namespace: 'openstack', name: `ossg.default.${ids['web']}` });
    const goodPolicy = (await kv.get(webKey))?.value;
    // Damage: a lost endpoint, a tampered policy, strays, a lost DHCP record.
    await kv.delete(wepKey);
    const tampered = JSON.parse(goodPolicy ?? '{}') as { spec: { ingress: unknown[] } };
    tampered.spec.ingress = [];
    await kv.put(webKey, JSON.stringify(tampered));
    const rc = new ResourceClient(kv);
    await rc.apply({
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata: { name: 'ossg.default.ghost', namespace: 'openstack' },
      spec: { selector: 'has(x)' },
    });
    await rc.apply({
      apiVersion: 'projectcalico.org/v3',
      kind: 'NetworkPolicy',
      metadata: { name: 'operator-allow-dns', namespace: 'openstack' },
      spec: { order: 10, selector: 'all()' },
    });
    await rc.apply({ apiVersion: 'projectcalico.org/v3', kind: 'WorkloadEndpoint', metadata: { name: 'k8s-pod', namespace: 'other' }, spec: { node: 'h9' } });
    await rc.apply({
      apiVersion: 'projectcalico.org/v3',
      kind: 'FelixConfiguration',
      metadata: { name: 'default' },
      spec: { interfacePrefix: 'cali', logSeverityScreen: 'Info' },
    });
    await kv.delete(dhcpSubnetKey('no-region', ids['sub']));
    await kv.put(dhcpSubnetKey('no-region', 'ghost-subnet'), '{"network_id":"x","cidr":"198.19.0.0/24","host_routes":[],"gateway_ip":null}');

    const second = await startTestApi(kv, { background: false });
    const result = await second.resyncDone;
    await second.close();
    assert.ok(result?.ok, result?.error);
    const counts = (p: { correct: number; updated: number; created: number; deleted: number }) => [p.correct, p.updated, p.created, p.deleted];
    assert.deepEqual(counts(result.phases.subnets), [0, 0, 1, 1], 'subnets: [correct, updated, created, deleted]');
    assert.deepEqual(counts(result.phases.policy), [1, 1, 0, 1], 'policy: the default group correct, web repaired, ghost deleted');
    assert.deepEqual(counts(result.phases.endpoints), [0, 0, 1, 0]);

    assert.equal((await kv.get(webKey))?.value !== undefined, true);
    assert.deepEqual((JSON.parse((await kv.get(webKey))?.value ?? '{}') as Json)['spec'], (JSON.parse(goodPolicy ?? '{}') as Json)['spec']);
    assert.equal(((await rc.get('WorkloadEndpoint', wepName, 'openstack'))?.spec.ipNetworks ?? []).length, 1);
    assert.equal(await rc.get('NetworkPolicy', 'ossg.default.ghost', 'openstack'), undefined);
    assert.notEqual(await rc.get('NetworkPolicy', 'operator-allow-dns', 'openstack'), undefined, 'operator policies are left alone');
    assert.notEqual(await rc.get('WorkloadEndpoint', 'k8s-pod', 'other'), undefined, 'other namespaces are left alone');
    assert.equal(await kv.get(dhcpSubnetKey('no-region', 'ghost-subnet')), undefined);
    assert.notEqual(await kv.get(dhcpSubnetKey('no-region', ids['sub'])), undefined);
    const felix = await rc.get('FelixConfiguration', 'default');
    assert.deepEqual(felix?.spec, { interfacePrefix: 'cali,tap', logSeverityScreen: 'Info', endpointReportingEnabled: true });
    const cluster = await rc.get('ClusterInformation', 'default');
    assert.equal(cluster?.spec.clusterType, 'openstack');
    assert.equal(cluster?.spec.datastoreReady, true);
    assert.match(cluster?.spec.clusterGUID ?? '', /^[0-9a-f]{32}$/);
  });

  it('a second resync finds everything correct and writes nothing', async () => {
    const api = await startTestApi(kv, { background: false, startupResync: false });
    try {
      const before = await kv.revision();
      const result = await resync(api.services.deps);
      assert.ok(result.ok);
      for (const p of Object.values(result.phases)) assert.equal(p.updated + p.created + p.deleted + p.lost, 0);
      assert.equal(await kv.revision(), before);
    } finally {
      await api.close();
    }
  });
});
