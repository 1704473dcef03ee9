// Floating IPs and routers through a real `brindle api` over the embedded datastore: what lands
// in the WorkloadEndpoint, and Neutron's faults with nothing written.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatastore, type KvStore } from '../../datastore/index.js';
import { realFs } from '../../lib/index.js';
import { resourceKey } from '../../model/index.js';
import { fakeAgentAlive, startTestApi, type TestApi } from '../testing/index.js';

const fs = realFs();
type Json = Record<string, unknown>;
const VM = '6a1c8a52-1111-4222-8333-944444444444';
const MEMBER = { 'x-project-id': 'p1', 'x-roles': 'member' };
const OTHER = { 'x-project-id': 'p2', 'x-roles': 'member' };

describe('floating IPs and routers', () => {
  let dir: string;
  let kv: KvStore;
  let t: TestApi;
  const id: Record<string, string> = {};

  const ok = async (method: string, path: string, body?: unknown, headers: Record<string, string> = MEMBER): Promise<Json> => {
    const r = await t.call(method, path, body, headers);
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const wep = async (): Promise<Json | undefined> => {
    const esc = (s: string) => s.replaceAll('-', '--');
    const v = await kv.get(resourceKey({ kind: 'WorkloadEndpoint', namespace: 'openstack', name: `compute--1-openstack-${esc(VM)}-${esc(id['port'] ?? '')}` }));
    return v === undefined ? undefined : ((JSON.parse(v.value) as Json)['spec'] as Json);
  };
  /** A refused request: its fault, and the datastore untouched. */
  const refused = async (request: string, body: unknown, headers: Record<string, string>, expected: [number, string, string]) => {
    const [status, type, fragment] = expected;
    const [method = 'GET', path = '/'] = request.split(' ');
    const before = await kv.revision();
    const r = await t.call(method, path, body, headers);
    assert.equal(r.status, status, JSON.stringify(r.body));
    const fault = r.body['NeutronError'] as { type: string; message: string };
    assert.equal(fault.type, type);
    assert.ok(fault.message.includes(fragment), `${fault.message} should include ${fragment}`);
    assert.equal(await kv.revision(), before, 'nothing written');
  };

  before(async () => {
    dir = await fs.makeTempDir('brindle-fip-');
    kv = await openDatastore({ kind: 'embedded', path: dir });
    t = await startTestApi(kv, { background: false });
    await fakeAgentAlive(kv, 'compute-1');
    id['ext'] = ((await ok('POST', '/v2.0/networks', { network: { name: 'ext', 'router:external': true } }, {})).network as Json)['id'] as string;
    id['extSub'] = (
      (await ok('POST', '/v2.0/subnets', { subnet: { network_id: id['ext'], ip_version: 4, cidr: '198.19.100.0/28', enable_dhcp: false } }, {})).subnet as Json
    )['id'] as string;
    id['net'] = ((await ok('POST', '/v2.0/networks', { network: { name: 'tenant' } })).network as Json)['id'] as string;
    id['sub'] = ((await ok('POST', '/v2.0/subnets', { subnet: { network_id: id['net'], ip_version: 4, cidr: '198.18.60.0/24' } })).subnet as Json)[
      'id'
    ] as string;
    id['lonely'] = ((await ok('POST', '/v2.0/subnets', { subnet: { network_id: id['net'], ip_version: 4, cidr: '198.18.61.0/24' } })).subnet as Json)[
      'id'
    ] as string;
    const port = (
      await ok('POST', '/v2.0/ports', { port: { network_id: id['net'], fixed_ips: [{ subnet_id: id['sub'] }], device_owner: 'compute:nova', device_id: VM } })
    ).port as Json;
    id['port'] = port['id'] as string;
    id['fixed'] = ((port['fixed_ips'] as Json[])[0] as Json)['ip_address'] as string;
    await ok('PUT', `/v2.0/ports/${id['port']}`, { port: { 'binding:host_id': 'compute-1' } }, {});
    const other = (
      await ok('POST', '/v2.0/ports', {
        port: { network_id: id['net'], fixed_ips: [{ subnet_id: id['lonely'] }], device_owner: 'compute:nova', device_id: VM },
      })
    ).port as Json;
    id['lonelyPort'] = other['id'] as string;
  });
  after(async () => {
    await t?.close();
    await kv?.close();
    await fs.remove(dir);
  });

  it('a router takes a gateway on the external network and an interface on a subnet (the gateway address)', async () => {
    await refused('POST /v2.0/routers', { router: { name: 'r', external_gateway_info: { network_id: id['net'] } } }, MEMBER, [
      400,
      'BadRequest',
      'is not an external network',
    ]);
    await refused('POST /v2.0/routers', { router: { external_gateway_info: { network_id: id['ext'], enable_snat: true } } }, MEMBER, [
      400,
      'HTTPBadRequest',
      'natOutgoing',
    ]);
    const router = (await ok('POST', '/v2.0/routers', { router: { name: 'r1', external_gateway_info: { network_id: id['ext'] } } })).router as Json;
    id['router'] = router['id'] as string;
    const gw = router['external_gateway_info'] as Json;
    assert.equal(gw['network_id'], id['ext']);
    assert.equal((gw['external_fixed_ips'] as Json[])[0]?.['subnet_id'], id['extSub']);
    const info = await ok('PUT', `/v2.0/routers/${id['router']}/add_router_interface`, { subnet_id: id['sub'] });
    assert.equal(info['subnet_id'], id['sub']);
    assert.equal(info['id'], id['router']);
    const iface = (await ok('GET', `/v2.0/ports/${info['port_id'] as string}`)).port as Json;
    assert.equal(iface['device_owner'], 'network:router_interface');
    assert.deepEqual(iface['fixed_ips'], [{ subnet_id: id['sub'], ip_address: '198.18.60.1' }]);
    await refused(`PUT /v2.0/routers/${id['router']}/add_router_interface`, { subnet_id: id['sub'] }, MEMBER, [
      400,
      'BadRequest',
      'already has a port on subnet',
    ]);
    await refused(`PUT /v2.0/routers/${id['router']}/add_router_interface`, {}, MEMBER, [400, 'BadRequest', 'Either subnet_id or port_id']);
    await refused(`DELETE /v2.0/ports/${info['port_id'] as string}`, undefined, MEMBER, [409, 'ServicePortInUse', 'network:router_interface']);
    // A refused gateway change leaves the gateway as it was.
    await refused(`PUT /v2.0/routers/${id['router']}`, { router: { external_gateway_info: { network_id: id['net'] } } }, MEMBER, [
      400,
      'BadRequest',
      'is not an external network',
    ]);
    assert.deepEqual(((await ok('GET', `/v2.0/routers/${id['router']}`)).router as Json)['external_gateway_info'], gw);
  });

  it('members see the external network but cannot change it, nor make network:* ports on it', async () => {
    assert.equal(((await ok('GET', `/v2.0/networks/${id['ext']}`)).network as Json)['router:external'], true);
    await refused(`PUT /v2.0/networks/${id['ext']}`, { network: { name: 'mine' } }, MEMBER, [403, 'PolicyNotAuthorized', 'rule:update_network']);
    await refused(`DELETE /v2.0/networks/${id['ext']}`, undefined, MEMBER, [403, 'PolicyNotAuthorized', 'rule:delete_network']);
    // Neutron 2023.2's get_subnet: an external network's subnets are not a member's to see (404).
    await refused(`PUT /v2.0/subnets/${id['extSub']}`, { subnet: { allocation_pools: [{ start: '198.19.100.2', end: '198.19.100.3' }] } }, MEMBER, [
      404,
      'SubnetNotFound',
      'could not be found',
    ]);
    // Not theirs and not shared: as Neutron, the network is not revealed (404) before any rule is asked.
    await refused('POST /v2.0/ports', { port: { network_id: id['ext'], device_owner: 'network:router_interface', device_id: id['router'] } }, MEMBER, [
      404,
      'HTTPNotFound',
      'could not be found',
    ]);
  });

  it('bad floating IP requests get Neutron faults and write nothing', async () => {
    const fip = (body: Json) => ({ floatingip: { floating_network_id: id['ext'], ...body } });
    await refused('POST /v2.0/floatingips', fip({ floating_network_id: id['net'] }), MEMBER, [400, 'BadRequest', 'is not a valid external network']);
    await refused('POST /v2.0/floatingips', fip({ floating_network_id: '00000000-0000-4000-8000-000000000000' }), MEMBER, [404, 'NetworkNotFound', '']);
    await refused('POST /v2.0/floatingips', fip({ floating_ip_address: '198.19.100.5' }), MEMBER, [
      403,
      'PolicyNotAuthorized',
      'create_floatingip:floating_ip_address',
    ]);
    await refused('POST /v2.0/floatingips', fip({ floating_ip_address: '198.19.200.5' }), {}, [400, 'InvalidIpForNetwork', '198.19.200.5']);
    await refused('POST /v2.0/floatingips', fip({ port_id: id['port'] }), OTHER, [404, 'PortNotFound', id['port'] ?? '']);
    await refused('POST /v2.0/floatingips', fip({ port_id: id['lonelyPort'] }), MEMBER, [
      404,
      'ExternalGatewayForFloatingIPNotFound',
      `not reachable from subnet ${id['lonely']}`,
    ]);
    await refused('POST /v2.0/floatingips', fip({ port_id: id['port'], fixed_ip_address: '198.18.60.250' }), MEMBER, [
      400,
      'BadRequest',
      'does not have fixed ip',
    ]);
    await refused('POST /v2.0/floatingips', fip({ fixed_ip_address: id['fixed'] }), MEMBER, [400, 'BadRequest', 'without a port_id']);
    await refused('POST /v2.0/floatingips', fip({ floating_ip_address: '2001:db8::5' }), {}, [400, 'BadRequest', 'not an IPv4 address']);
  });

  it('associating puts the floating IP in the endpoint’s ipNATs; Nova’s lookup finds it', async () => {
    const created = (await ok('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: id['ext'], port_id: id['port'] } })).floatingip as Json;
    id['fip'] = created['id'] as string;
    id['fipAddress'] = created['floating_ip_address'] as string;
    assert.equal(created['status'], 'ACTIVE');
    assert.equal(created['fixed_ip_address'], id['fixed']);
    assert.equal(created['router_id'], id['router']);
    assert.equal(created['project_id'], 'p1');
    assert.equal(created['floating_port_id'], undefined, 'Brindle’s bookkeeping is not shown');
    assert.deepEqual((await wep())?.['ipNATs'], [{ internalIP: id['fixed'], externalIP: id['fipAddress'] }]);
    const found = (await ok('GET', `/v2.0/floatingips?fixed_ip_address=${id['fixed']}&port_id=${id['port']}`)).floatingips as Json[];
    assert.deepEqual(
      found.map((f) => f['id']),
      [id['fip']],
    );
    assert.deepEqual((await ok('GET', '/v2.0/floatingips', undefined, OTHER)).floatingips, [], 'another project sees none');
    // The address is now in use, and the fixed IP has its floating IP on this network.
    await refused('POST /v2.0/floatingips', { floatingip: { floating_network_id: id['ext'], floating_ip_address: id['fipAddress'] } }, {}, [
      409,
      'IpAddressAlreadyAllocated',
      id['fipAddress'] ?? '',
    ]);
    await refused('POST /v2.0/floatingips', { floatingip: { floating_network_id: id['ext'], port_id: id['port'] } }, MEMBER, [
      409,
      'FloatingIPPortAlreadyAssociated',
      `using fixed IP ${id['fixed']}`,
    ]);
    await refused(`PUT /v2.0/routers/${id['router']}/remove_router_interface`, { subnet_id: id['sub'] }, MEMBER, [
      409,
      'RouterInterfaceInUseByFloatingIP',
      id['sub'] ?? '',
    ]);
    await refused(`PUT /v2.0/routers/${id['router']}`, { router: { external_gateway_info: null } }, MEMBER, [
      409,
      'RouterExternalGatewayInUseByFloatingIp',
      '',
    ]);
    await refused(`DELETE /v2.0/routers/${id['router']}`, undefined, MEMBER, [409, 'RouterInUse', '']);
    await refused(`PUT /v2.0/ports/${id['port']}`, { port: { fixed_ips: [{ subnet_id: id['lonely'] }] } }, MEMBER, [
      409,
      'IpAddressInUse',
      `The IP address ${id['fixed']} is in use`,
    ]);
    await refused(`PUT /v2.0/networks/${id['ext']}`, { network: { 'router:external': false } }, {}, [409, 'ExternalNetworkInUse', '']);
  });

  it('disassociating empties ipNATs; re-associating restores it; deleting the port keeps the floating IP', async () => {
    const off = (await ok('PUT', `/v2.0/floatingips/${id['fip']}`, { floatingip: { port_id: null } })).floatingip as Json;
    assert.equal(off['status'], 'DOWN');
    assert.equal(off['fixed_ip_address'], null);
    assert.equal((await wep())?.['ipNATs'], undefined);
    await ok('PUT', `/v2.0/floatingips/${id['fip']}`, { floatingip: { port_id: id['port'] } });
    assert.deepEqual((await wep())?.['ipNATs'], [{ internalIP: id['fixed'], externalIP: id['fipAddress'] }]);
    await ok('DELETE', `/v2.0/ports/${id['port']}`);
    const kept = (await ok('GET', `/v2.0/floatingips/${id['fip']}`)).floatingip as Json;
    assert.equal(kept['port_id'], null);
    assert.equal(kept['status'], 'DOWN');
    assert.deepEqual((await kv.list(`/brindle/neutron/v1/fip-ports/${id['port']}/`)).items, []);
  });

  it('releasing frees the address; the router comes apart in order', async () => {
    await refused(`DELETE /v2.0/ports/${id['port']}`, undefined, MEMBER, [404, 'PortNotFound', '']);
    const fipPorts = ((await ok('GET', '/v2.0/ports?device_owner=network:floatingip', undefined, {})).ports as Json[]).map((p) => p['id'] as string);
    assert.equal(fipPorts.length, 1);
    await refused(`DELETE /v2.0/ports/${fipPorts[0] ?? ''}`, undefined, {}, [409, 'ServicePortInUse', 'network:floatingip']);
    await ok('DELETE', `/v2.0/floatingips/${id['fip']}`);
    assert.deepEqual((await ok('GET', '/v2.0/ports?device_owner=network:floatingip', undefined, {})).ports, []);
    const again = (await ok('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: id['ext'], floating_ip_address: id['fipAddress'] } }, {}))
      .floatingip as Json;
    await ok('DELETE', `/v2.0/floatingips/${again['id'] as string}`, undefined, {});
    await ok('PUT', `/v2.0/routers/${id['router']}/remove_router_interface`, { subnet_id: id['sub'] });
    await refused(`PUT /v2.0/routers/${id['router']}/remove_router_interface`, { subnet_id: id['sub'] }, MEMBER, [404, 'RouterInterfaceNotFoundForSubnet', '']);
    await ok('DELETE', `/v2.0/routers/${id['router']}`);
    assert.deepEqual((await ok('GET', `/v2.0/ports?network_id=${id['ext']}`, undefined, {})).ports, [], 'the gateway port went with the router');
    await ok('PUT', `/v2.0/networks/${id['ext']}`, { network: { 'router:external': false } }, {});
  });
});
