// Neutron behaviours tempest's network tests rely on (found by `make tempest`), each checked
// here against the API on an embedded store so `make test` keeps them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDatastore, type KvStore } from '../../datastore/index.js';
import { realFs } from '../../lib/index.js';
import { startTestApi, type TestApi } from '../testing/index.js';

const fs = realFs();
type Json = Record<string, unknown>;
const MEMBER = { 'x-project-id': 'pm', 'x-roles': 'member' };

describe('Neutron behaviours tempest relies on', () => {
  let dir: string;
  let kv: KvStore;
  let t: TestApi;
  const body = (r: { body: Json }, key: string): Json => r.body[key] as Json;

  before(async () => {
    dir = await fs.makeTempDir('brindle-api-compat-');
    kv = await openDatastore({ kind: 'embedded', path: join(dir, 'store') });
    t = await startTestApi(kv, { background: false });
  });
  after(async () => {
    await t.close();
    await kv.close();
    await fs.remove(dir);
  });

  it('deleting a SLAAC subnet takes its addresses off the ports that hold them; a DHCPv6-stateful one is still in use', async () => {
    const net = body(await t.call('POST', '/v2.0/networks', { network: { name: 'v6' } }), 'network')['id'] as string;
    const v4 = body(await t.call('POST', '/v2.0/subnets', { subnet: { network_id: net, ip_version: 4, cidr: '198.18.40.0/24' } }), 'subnet')['id'] as string;
    const slaac = body(
      await t.call('POST', '/v2.0/subnets', {
        subnet: { network_id: net, ip_version: 6, cidr: '2001:db8:40::/64', ipv6_ra_mode: 'slaac', ipv6_address_mode: 'slaac' },
      }),
      'subnet',
    )['id'] as string;
    const port = body(await t.call('POST', '/v2.0/ports', { port: { network_id: net } }), 'port');
    assert.deepEqual((port['fixed_ips'] as Json[]).map((f) => f['subnet_id']).sort(), [slaac, v4].sort());
    assert.equal((await t.call('DELETE', `/v2.0/subnets/${slaac}`)).status, 204);
    const after = body(await t.call('GET', `/v2.0/ports/${port['id'] as string}`), 'port');
    assert.deepEqual(
      (after['fixed_ips'] as Json[]).map((f) => f['subnet_id']),
      [v4],
      'the IPv4 address stays',
    );
    // Its address can be handed out again: a new subnet on the prefix takes ports.
    const stateful = body(
      await t.call('POST', '/v2.0/subnets', {
        subnet: { network_id: net, ip_version: 6, cidr: '2001:db8:40::/64', ipv6_ra_mode: 'dhcpv6-stateful', ipv6_address_mode: 'dhcpv6-stateful' },
      }),
      'subnet',
    )['id'] as string;
    await t.call('POST', '/v2.0/ports', { port: { network_id: net, fixed_ips: [{ subnet_id: stateful }] } });
    const inUse = await t.call('DELETE', `/v2.0/subnets/${stateful}`);
    assert.equal(inUse.status, 409);
    assert.equal((inUse.body['NeutronError'] as Json)['type'], 'SubnetInUse');
  });

  it("a router's external_gateway_info of {} is no gateway; routers and floating IPs take tags", async () => {
    const r = await t.call('POST', '/v2.0/routers', { router: { name: 'r', external_gateway_info: {} } }, MEMBER);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const id = body(r, 'router')['id'] as string;
    assert.equal(body(r, 'router')['external_gateway_info'], null);
    assert.equal((await t.call('PUT', `/v2.0/routers/${id}/tags/blue`, undefined, MEMBER)).status, 201);
    assert.deepEqual((await t.call('GET', `/v2.0/routers/${id}/tags`, undefined, MEMBER)).body, { tags: ['blue'] });
    assert.equal((await t.call('GET', `/v2.0/routers/${id}/tags`, undefined, { 'x-project-id': 'other', 'x-roles': 'member' })).status, 404);
  });

  it('security group rules: a bad port is SecurityGroupInvalidPortValue; an unknown remote group is 404', async () => {
    const sg = body(await t.call('POST', '/v2.0/security-groups', { security_group: { name: 'g' } }), 'security_group')['id'] as string;
    const port = await t.call('POST', '/v2.0/security-group-rules', {
      security_group_rule: { security_group_id: sg, direction: 'ingress', protocol: 'tcp', port_range_min: -16, port_range_max: 80 },
    });
    assert.equal(port.status, 400);
    assert.deepEqual(port.body['NeutronError'], { type: 'SecurityGroupInvalidPortValue', message: 'Invalid value for port -16', detail: '' });
    const remote = await t.call('POST', '/v2.0/security-group-rules', {
      security_group_rule: { security_group_id: sg, direction: 'ingress', protocol: 'tcp', remote_group_id: 'bad_group_id' },
    });
    assert.equal(remote.status, 404);
    assert.equal((remote.body['NeutronError'] as Json)['type'], 'SecurityGroupNotFound');
  });

  it('deleting an external network takes its floating IPs that lead nowhere with it', async () => {
    const ext = body(await t.call('POST', '/v2.0/networks', { network: { name: 'ext', 'router:external': true } }), 'network')['id'] as string;
    await t.call('POST', '/v2.0/subnets', { subnet: { network_id: ext, ip_version: 4, cidr: '198.19.40.0/24' } });
    const fip = await t.call('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: ext } });
    assert.equal(fip.status, 201, JSON.stringify(fip.body));
    const fipId = body(fip, 'floatingip')['id'] as string;
    assert.equal((await t.call('DELETE', `/v2.0/networks/${ext}`)).status, 204);
    assert.equal((await t.call('GET', `/v2.0/floatingips/${fipId}`)).status, 404);
    const ports = (await t.call('GET', `/v2.0/ports?network_id=${ext}`)).body['ports'] as Json[];
    assert.deepEqual(ports, [], 'its network:floatingip port went too');

    // Held by a router's gateway: refused, and its floating IPs are all still there.
    const ext2 = body(await t.call('POST', '/v2.0/networks', { network: { name: 'ext2', 'router:external': true } }), 'network')['id'] as string;
    await t.call('POST', '/v2.0/subnets', { subnet: { network_id: ext2, ip_version: 4, cidr: '198.19.41.0/24' } });
    const fip2 = body(await t.call('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: ext2 } }), 'floatingip')['id'] as string;
    const router = await t.call('POST', '/v2.0/routers', { router: { name: 'gw', external_gateway_info: { network_id: ext2 } } });
    assert.equal(router.status, 201, JSON.stringify(router.body));
    const inUse = await t.call('DELETE', `/v2.0/networks/${ext2}`);
    assert.equal(inUse.status, 409);
    assert.equal((await t.call('GET', `/v2.0/floatingips/${fip2}`)).status, 200, 'nothing was taken by the refused delete');
  });

  it("a project's default quotas; a subnet gateway outside its CIDR is accepted, as Neutron", async () => {
    const q = await t.call('GET', '/v2.0/quotas/pm/default', undefined, MEMBER);
    assert.equal(q.status, 200);
    assert.equal(typeof body(q, 'quota')['port'], 'number');
    assert.equal((await t.call('GET', '/v2.0/quotas/other/default', undefined, MEMBER)).status, 403);
    const net = body(await t.call('POST', '/v2.0/networks', { network: { name: 'gw' } }), 'network')['id'] as string;
    const s = await t.call('POST', '/v2.0/subnets', { subnet: { network_id: net, ip_version: 6, cidr: '2001:db8:41:1::/64', gateway_ip: '2001:db8:41::1' } });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    assert.equal(body(s, 'subnet')['gateway_ip'], '2001:db8:41::1');
  });
});
