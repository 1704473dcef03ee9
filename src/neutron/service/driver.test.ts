import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatastore, type KvStore } from '../../datastore/index.js';
import { realFs } from '../../lib/index.js';
import { dhcpSubnetKey, felixEndpointStatusKey, resourceKey } from '../../model/index.js';
import { eventually, fakeAgentAlive, startFakeNova, startTestApi, type FakeNova, type TestApi } from '../testing/index.js';

const fs = realFs();
type Json = Record<string, unknown>;
const INSTANCE = '5f1c8a52-1111-4222-8333-944444444444';

function wepKey(host: string, device: string, port: string): string {
  const esc = (s: string) => s.replaceAll('-', '--');
  return resourceKey({ kind: 'WorkloadEndpoint', namespace: 'openstack', name: `${esc(host)}-openstack-${esc(device)}-${esc(port)}` });
}

async function json(kv: KvStore, key: string): Promise<Json | undefined> {
  const v = await kv.get(key);
  return v === undefined ? undefined : (JSON.parse(v.value) as Json);
}

describe('the networking-calico driver: what lands in the datastore', () => {
  let dir: string;
  let kv: KvStore;
  let nova: FakeNova;
  let t: TestApi;
  let net: string;
  let subnet: string;
  let subnet6: string;
  before(async () => {
    dir = await fs.makeTempDir('brindle-driver-');
    kv = await openDatastore({ kind: 'embedded', path: dir });
    nova = await startFakeNova();
    t = await startTestApi(kv, { novaUrl: nova.url });
    net = (
      (
        await t.call('POST', '/v2.0/networks', {
          network: { name: 'calico-net', 'provider:network_type': 'flat', 'provider:physical_network': 'physnet1', shared: true },
        })
      ).body['network'] as Json
    )['id'] as string;
    subnet = (
      (
        await t.call('POST', '/v2.0/subnets', {
          subnet: {
            network_id: net,
            ip_version: 4,
            cidr: '198.18.20.0/24',
            dns_nameservers: ['198.18.20.53'],
            host_routes: [{ destination: '198.19.0.0/16', nexthop: '198.18.20.1' }],
          },
        })
      ).body['subnet'] as Json
    )['id'] as string;
    subnet6 = (
      (
        await t.call('POST', '/v2.0/subnets', {
          subnet: { network_id: net, ip_version: 6, cidr: '2001:db8:20::/64', ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful' },
        })
      ).body['subnet'] as Json
    )['id'] as string;
  });
  after(async () => {
    await t?.close();
    await nova?.close();
    await kv?.close();
    await fs.remove(dir);
  });

  it('DHCP subnet records as networking-calico writes them; disabling DHCP removes one', async () => {
    assert.deepEqual(await json(kv, dhcpSubnetKey('no-region', subnet)), {
      network_id: net,
      cidr: '198.18.20.0/24',
      host_routes: [{ destination: '198.19.0.0/16', nexthop: '198.18.20.1' }],
      gateway_ip: '198.18.20.1',
      dns_servers: ['198.18.20.53'],
    });
    assert.deepEqual(await json(kv, dhcpSubnetKey('no-region', subnet6)), {
      network_id: net,
      cidr: '2001:db8:20::/64',
      host_routes: [],
      gateway_ip: '2001:db8:20::1',
      ipv6_ra_mode: 'dhcpv6-stateful',
      ipv6_address_mode: 'dhcpv6-stateful',
    });
    await t.call('PUT', `/v2.0/subnets/${subnet6}`, { subnet: { enable_dhcp: false } });
    assert.equal(await kv.get(dhcpSubnetKey('no-region', subnet6)), undefined);
    await t.call('PUT', `/v2.0/subnets/${subnet6}`, { subnet: { enable_dhcp: true } });
  });

  it("the project's default group and its policy; a new group's rules become policy rules", async () => {
    const groups = (await t.call('GET', '/v2.0/security-groups?name=default')).body['security_groups'] as Json[];
    assert.equal(groups.length, 1);
    const def = groups[0] as Json;
    assert.equal((def['security_group_rules'] as Json[]).length, 4);
    const policy = await json(kv, resourceKey({ kind: 'NetworkPolicy', namespace: 'openstack', name: `ossg.default.${def['id'] as string}` }));
    assert.deepEqual((policy?.['spec'] as Json)['ingress'], [
      { action: 'Allow', ipVersion: 4, source: { selector: `has(sg.projectcalico.org/openstack-${def['id'] as string})` } },
      { action: 'Allow', ipVersion: 6, source: { selector: `has(sg.projectcalico.org/openstack-${def['id'] as string})` } },
    ]);
    const web = ((await t.call('POST', '/v2.0/security-groups', { security_group: { name: 'web' } })).body['security_group'] as Json)['id'] as string;
    const rule = await t.call('POST', '/v2.0/security-group-rules', {
      security_group_rule: {
        security_group_id: web,
        direction: 'ingress',
        protocol: 'tcp',
        port_range_min: 80,
        port_range_max: 81,
        remote_ip_prefix: '198.18.0.0/16',
      },
    });
    assert.equal(rule.status, 201);
    const dup = await t.call('POST', '/v2.0/security-group-rules', {
      security_group_rule: {
        security_group_id: web,
        direction: 'ingress',
        protocol: 'tcp',
        port_range_min: 80,
        port_range_max: 81,
        remote_ip_prefix: '198.18.0.0/16',
      },
    });
    assert.equal((dup.body['NeutronError'] as Json)['type'], 'SecurityGroupRuleExists');
    const key = resourceKey({ kind: 'NetworkPolicy', namespace: 'openstack', name: `ossg.default.${web}` });
    assert.deepEqual((await json(kv, key))?.['spec'], {
      selector: `has(sg.projectcalico.org/openstack-${web})`,
      ingress: [{ action: 'Allow', ipVersion: 4, protocol: 6, source: { nets: ['198.18.0.0/16'] }, destination: { ports: ['80:81'] } }],
      egress: [
        { action: 'Allow', ipVersion: 4 },
        { action: 'Allow', ipVersion: 6 },
      ],
    });
    await t.call('DELETE', `/v2.0/security-group-rules/${(rule.body['security_group_rule'] as Json)['id'] as string}`);
    assert.deepEqual(((await json(kv, key))?.['spec'] as Json)['ingress'], []);
    await t.call('DELETE', `/v2.0/security-groups/${web}`);
    assert.equal(await kv.get(key), undefined);
  });

  it('binding fails without a live agent on the host; succeeds with one and writes the WorkloadEndpoint', async () => {
    const port = (await t.call('POST', '/v2.0/ports', { port: { network_id: net, name: 'vm-port', allowed_address_pairs: [{ ip_address: '198.18.20.200' }] } }))
      .body['port'] as Json;
    const id = port['id'] as string;
    const failed = (await t.call('PUT', `/v2.0/ports/${id}`, { port: { device_owner: 'compute:nova', device_id: INSTANCE, 'binding:host_id': 'compute-1' } }))
      .body['port'] as Json;
    assert.equal(failed['binding:vif_type'], 'binding_failed');
    assert.equal(await kv.get(wepKey('compute-1', INSTANCE, id)), undefined);

    const agent = await fakeAgentAlive(kv, 'compute-1');
    const bound = (await t.call('PUT', `/v2.0/ports/${id}`, { port: { 'binding:host_id': 'compute-1' } })).body['port'] as Json;
    assert.equal(bound['binding:vif_type'], 'tap');
    assert.deepEqual(bound['binding:vif_details'], { port_filter: true, mac_address: '00:61:fe:ed:ca:fe' });
    const wep = await json(kv, wepKey('compute-1', INSTANCE, id));
    const [v4, v6] = port['fixed_ips'] as { ip_address: string }[];
    assert.deepEqual(wep?.['spec'], {
      orchestrator: 'openstack',
      workload: INSTANCE,
      node: 'compute-1',
      endpoint: id,
      interfaceName: `tap${id.slice(0, 11)}`,
      mac: port['mac_address'],
      ipNetworks: [`${v4?.ip_address ?? ''}/32`, `${v6?.ip_address ?? ''}/128`, '198.18.20.200/32'],
      allowedIps: ['198.18.20.200/32'],
      ipv4Gateway: '198.18.20.1',
      ipv6Gateway: '2001:db8:20::1',
    });
    const labels = (wep?.['metadata'] as Json)['labels'] as Record<string, string>;
    const sg = (port['security_groups'] as string[])[0] ?? '';
    assert.equal(labels[`sg.projectcalico.org/openstack-${sg}`], 'default');
    assert.equal(labels['sg-name.projectcalico.org/openstack-default'], sg);
    assert.equal(labels['projectcalico.org/openstack-network-name'], 'calico-net');
    assert.equal(((wep?.['metadata'] as Json)['annotations'] as Json)['openstack.projectcalico.org/network-id'], net);

    // Moving the port to another host moves its endpoint; unbinding removes it.
    await fakeAgentAlive(kv, 'compute-2');
    await t.call('PUT', `/v2.0/ports/${id}`, { port: { 'binding:host_id': 'compute-2' } });
    assert.equal(await kv.get(wepKey('compute-1', INSTANCE, id)), undefined);
    assert.notEqual(await kv.get(wepKey('compute-2', INSTANCE, id)), undefined);
    const unbound = (await t.call('PUT', `/v2.0/ports/${id}`, { port: { 'binding:host_id': null } })).body['port'] as Json;
    assert.equal(unbound['binding:vif_type'], 'unbound');
    assert.equal(await kv.get(wepKey('compute-2', INSTANCE, id)), undefined);
    await t.call('DELETE', `/v2.0/ports/${id}`);
    await kv.revokeLease(agent.lease);
  });

  it("agent rows come from the agents' status keys", async () => {
    const agents = (await t.call('GET', '/v2.0/agents')).body['agents'] as Json[];
    assert.deepEqual(
      agents.map((a) => [a['host'], a['agent_type'], a['binary'], a['alive']]),
      [['compute-2', 'Calico per-host agent (felix)', 'calico-felix', true]],
    );
  });

  it("Nova's boot sequence (reference §4.2-4.3) succeeds, and network-vif-plugged follows the endpoint going up", async () => {
    await fakeAgentAlive(kv, 'compute-3');
    const call = async (method: string, path: string, body?: unknown, status = 200): Promise<Json> => {
      const r = await t.call(method, path, body, { 'X-Project-Id': 'demo' });
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    // nova-api: extension probe, network validation, quota check, port count.
    assert.ok(((await call('GET', '/v2.0/extensions'))['extensions'] as Json[]).some((e) => e['alias'] === 'binding'));
    const nets = (await call('GET', `/v2.0/networks?id=${net}`))['networks'] as Json[];
    assert.equal((nets[0]?.['subnets'] as string[]).length, 2);
    assert.equal(((await call('GET', '/v2.0/quotas/demo'))['quota'] as Json)['port'], -1);
    await call('GET', '/v2.0/ports?tenant_id=demo&fields=id');
    await call('GET', `/v2.0/networks/${net}?fields=provider:physical_network&fields=provider:network_type`);
    // nova-compute: create the port, bind it, build network info.
    const created = (await call('POST', '/v2.0/ports', { port: { device_id: INSTANCE, network_id: net, admin_state_up: true, tenant_id: 'demo' } }, 201))[
      'port'
    ] as Json;
    assert.notEqual(created['binding:vif_type'], 'binding_failed');
    const pid = created['id'] as string;
    const bound = (await call('PUT', `/v2.0/ports/${pid}`, { port: { device_id: INSTANCE, device_owner: 'compute:nova', 'binding:host_id': 'compute-3' } }))[
      'port'
    ] as Json;
    assert.equal(bound['binding:vif_type'], 'tap');
    assert.ok(bound['mac_address']);
    assert.equal(bound['status'], 'DOWN', 'DOWN until the agent says the endpoint is up, so Nova waits');
    await eventually(() => nova.events.some((e) => e['name'] === 'network-changed' && e['tag'] === pid));
    const mine = (await call('GET', `/v2.0/ports?tenant_id=demo&device_id=${INSTANCE}`))['ports'] as Json[];
    assert.deepEqual(
      mine.map((p) => p['id']),
      [pid],
    );
    const floating = await t.call('GET', `/v2.0/floatingips?fixed_ip_address=198.18.20.5&port_id=${pid}`);
    assert.equal(floating.status, 200, "Nova asks for the port's floating IPs");
    assert.deepEqual(floating.body['floatingips'], []);
    await call('GET', `/v2.0/subnets?id=${subnet}&id=${subnet6}`);
    assert.deepEqual((await call('GET', `/v2.0/ports?network_id=${net}&device_owner=network%3Adhcp`))['ports'], []);
    // The agent reports the endpoint up: the port turns ACTIVE and Nova hears network-vif-plugged.
    await kv.put(felixEndpointStatusKey('no-region', { host: 'compute-3', workload: INSTANCE, endpoint: pid }), JSON.stringify({ status: 'up' }));
    await eventually(async () => ((await t.call('GET', `/v2.0/ports/${pid}`)).body['port'] as Json)['status'] === 'ACTIVE');
    await eventually(() => nova.events.some((e) => e['name'] === 'network-vif-plugged'));
    assert.deepEqual(
      nova.events.find((e) => e['name'] === 'network-vif-plugged'),
      { server_uuid: INSTANCE, name: 'network-vif-plugged', status: 'completed', tag: pid },
    );
    assert.equal(nova.headers[0]?.['x-openstack-nova-api-version'], '2.1');
    // Down, then the port's deletion.
    await kv.put(felixEndpointStatusKey('no-region', { host: 'compute-3', workload: INSTANCE, endpoint: pid }), JSON.stringify({ status: 'down' }));
    await eventually(() => nova.events.some((e) => e['name'] === 'network-vif-unplugged'));
    await call('DELETE', `/v2.0/ports/${pid}`, undefined, 204);
    await eventually(() => nova.events.some((e) => e['name'] === 'network-vif-deleted' && e['tag'] === pid));
  });

  it('IP exhaustion is 409 IpAddressGenerationFailure; a requested address in use is IpAddressAlreadyAllocated', async () => {
    const small = ((await t.call('POST', '/v2.0/networks', { network: { name: 'small' } })).body['network'] as Json)['id'] as string;
    const sub = ((await t.call('POST', '/v2.0/subnets', { subnet: { network_id: small, ip_version: 4, cidr: '198.18.30.0/29' } })).body['subnet'] as Json)[
      'id'
    ] as string;
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await t.call('POST', '/v2.0/ports', { port: { network_id: small } });
      assert.equal(r.status, 201);
      made.push(((r.body['port'] as Json)['fixed_ips'] as Json[])[0]?.['ip_address'] as string);
    }
    assert.equal(new Set(made).size, 5);
    const full = await t.call('POST', '/v2.0/ports', { port: { network_id: small } });
    assert.equal(full.status, 409);
    assert.equal((full.body['NeutronError'] as Json)['type'], 'IpAddressGenerationFailure');
    const taken = await t.call('POST', '/v2.0/ports', { port: { network_id: small, fixed_ips: [{ subnet_id: sub, ip_address: made[0] }] } });
    assert.equal((taken.body['NeutronError'] as Json)['type'], 'IpAddressAlreadyAllocated');
    const inUse = await t.call('DELETE', `/v2.0/subnets/${sub}`);
    assert.equal((inUse.body['NeutronError'] as Json)['type'], 'SubnetInUse');
    const netInUse = await t.call('DELETE', `/v2.0/networks/${small}`);
    assert.equal((netInUse.body['NeutronError'] as Json)['type'], 'NetworkInUse');
  });
});
