import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDatastore, type KvStore } from '../../datastore/index.js';
import { realFs } from '../../lib/index.js';
import { ReloadablePolicy } from '../policy/index.js';
import { startTestApi, type TestApi } from '../testing/index.js';

const fs = realFs();
type Json = Record<string, unknown>;

const ADMIN = { 'x-project-id': 'adm', 'x-roles': 'admin' };
const A = { 'x-project-id': 'pa', 'x-roles': 'member' };
const B = { 'x-project-id': 'pb', 'x-roles': 'member' };
const A_READER = { 'x-project-id': 'pa', 'x-roles': 'reader' };

const idOf = (r: { body: Json }, key: string): string => (r.body[key] as Json)['id'] as string;
const fault = (r: { body: Json }): Json => r.body['NeutronError'] as Json;

describe("Neutron's policy through the API (defaults, then an override file reloaded)", () => {
  let dir: string;
  let kv: KvStore;
  let t: TestApi;
  let policy: ReloadablePolicy;
  let policyFile: string;
  let netA: string;
  let subnetA: string;
  let shared: string;
  let sharedSubnet: string;

  before(async () => {
    dir = await fs.makeTempDir('brindle-api-policy-');
    policyFile = join(dir, 'policy.yaml');
    await fs.writeTextAtomic(policyFile, '# no overrides yet\n');
    policy = await ReloadablePolicy.load(fs, policyFile);
    kv = await openDatastore({ kind: 'embedded', path: join(dir, 'store') });
    t = await startTestApi(kv, { background: false, policy });
    netA = idOf(await t.call('POST', '/v2.0/networks', { network: { name: 'a' } }, A), 'network');
    subnetA = idOf(await t.call('POST', '/v2.0/subnets', { subnet: { network_id: netA, ip_version: 4, cidr: '198.18.20.0/24' } }, A), 'subnet');
    shared = idOf(await t.call('POST', '/v2.0/networks', { network: { name: 'shared', shared: true } }, ADMIN), 'network');
    sharedSubnet = idOf(await t.call('POST', '/v2.0/subnets', { subnet: { network_id: shared, ip_version: 4, cidr: '198.18.21.0/24' } }, ADMIN), 'subnet');
  });
  after(async () => {
    await t.close();
    await kv.close();
    await fs.remove(dir);
  });

  it("another project's non-shared objects are 404 to a member, as Neutron answers, and absent from its lists", async () => {
    for (const [method, path, body] of [
      ['GET', `/v2.0/networks/${netA}`, undefined],
      ['PUT', `/v2.0/networks/${netA}`, { network: { name: 'taken' } }],
      ['DELETE', `/v2.0/networks/${netA}`, undefined],
      ['GET', `/v2.0/subnets/${subnetA}`, undefined],
      ['PUT', `/v2.0/networks/${netA}/tags/x`, undefined],
    ] as const) {
      const r = await t.call(method, path, body, B);
      assert.equal(r.status, 404, `${method} ${path}`);
    }
    const nets = (await t.call('GET', '/v2.0/networks', undefined, B)).body['networks'] as Json[];
    assert.deepEqual(nets.map((n) => n['name']).sort(), ['shared'], 'only the shared network');
    assert.equal(((await t.call('GET', `/v2.0/networks/${netA}`, undefined, A)).body['network'] as Json)['name'], 'a', 'nothing was changed');
  });

  it('a shared network is seen by all but changed only by its owner (403 naming the rule)', async () => {
    assert.equal((await t.call('GET', `/v2.0/subnets/${sharedSubnet}`, undefined, B)).status, 200);
    const r = await t.call('PUT', `/v2.0/networks/${shared}`, { network: { name: 'mine now' } }, B);
    assert.equal(r.status, 403);
    assert.deepEqual(fault(r), { type: 'PolicyNotAuthorized', message: '(rule:update_network) is disallowed by policy', detail: '' });
    // A member may put its own port on a shared network, with an address from its subnet.
    const p = await t.call('POST', '/v2.0/ports', { port: { network_id: shared, fixed_ips: [{ subnet_id: sharedSubnet }] } }, B);
    assert.equal(p.status, 201, JSON.stringify(p.body));
    // ...but not a network:* port (create_port:device_owner needs the network's owner)...
    const dhcp = await t.call('POST', '/v2.0/ports', { port: { network_id: shared, device_owner: 'network:dhcp' } }, B);
    assert.equal(fault(dhcp)['message'], '(rule:create_port:device_owner) is disallowed by policy');
    // ...nor choose the address (create_port:fixed_ips:ip_address needs the network's owner).
    const chosen = await t.call('POST', '/v2.0/ports', { port: { network_id: shared, fixed_ips: [{ ip_address: '198.18.21.50' }] } }, B);
    assert.equal(chosen.status, 403);
    assert.equal(fault(chosen)['message'], '(rule:create_port:fixed_ips:ip_address) is disallowed by policy');
  });

  it('admin-only attributes: refused to members (403), left out of their views; an admin sets and sees them', async () => {
    const provider = await t.call('POST', '/v2.0/networks', { network: { name: 'p', 'provider:network_type': 'flat', 'provider:physical_network': 'x' } }, A);
    assert.equal(provider.status, 403);
    assert.equal(fault(provider)['message'], '(rule:create_network:provider:network_type) is disallowed by policy');
    const sharing = await t.call('POST', '/v2.0/networks', { network: { name: 's', shared: true } }, A);
    assert.equal(fault(sharing)['message'], '(rule:create_network:shared) is disallowed by policy');
    assert.equal(
      (await t.call('POST', '/v2.0/networks', { network: { name: 'not shared', shared: false } }, A)).status,
      201,
      'the default value is not checked',
    );
    const bound = await t.call('POST', '/v2.0/ports', { port: { network_id: netA, 'binding:host_id': 'h1' } }, A);
    assert.equal(fault(bound)['message'], '(rule:create_port:binding:host_id) is disallowed by policy');

    const port = await t.call('POST', '/v2.0/ports', { port: { network_id: netA, mac_address: 'fa:16:3e:00:00:01' } }, A);
    assert.equal(port.status, 201, 'the network owner may choose the MAC');
    const mine = port.body['port'] as Json;
    for (const k of ['binding:host_id', 'binding:vif_type', 'binding:vif_details', 'binding:profile']) assert.ok(!(k in mine), `${k} hidden from the member`);
    assert.ok('binding:vnic_type' in mine);
    const net = (await t.call('GET', `/v2.0/networks/${netA}`, undefined, A)).body['network'] as Json;
    assert.ok(!('provider:network_type' in net));
    const asAdmin = (await t.call('GET', `/v2.0/ports/${mine['id'] as string}`, undefined, ADMIN)).body['port'] as Json;
    assert.equal(asAdmin['binding:vif_type'], 'unbound');
    assert.equal((await t.call('PUT', `/v2.0/ports/${mine['id'] as string}`, { port: { 'binding:host_id': 'h1' } }, ADMIN)).status, 200);
    const renamed = await t.call('PUT', `/v2.0/ports/${mine['id'] as string}`, { port: { name: 'renamed' } }, A);
    assert.ok(!('binding:host_id' in (renamed.body['port'] as Json)), 'an update answers with the member view too');
    const macChange = await t.call('PUT', `/v2.0/ports/${mine['id'] as string}`, { port: { mac_address: 'fa:16:3e:00:00:02' } }, A);
    assert.equal(fault(macChange)['message'], '(rule:update_port:mac_address) is disallowed by policy');
  });

  it("another project's private network and security groups are 404 to a member, whatever it creates on them", async () => {
    const onTheirs = await t.call('POST', '/v2.0/ports', { port: { network_id: netA } }, B);
    assert.equal(onTheirs.status, 404);
    assert.deepEqual(fault(onTheirs), { type: 'HTTPNotFound', message: 'The resource could not be found.', detail: '' });
    assert.equal((await t.call('POST', '/v2.0/subnets', { subnet: { network_id: netA, ip_version: 4, cidr: '198.18.22.0/24' } }, B)).status, 404);
    const groupA = ((await t.call('POST', '/v2.0/security-groups', { security_group: { name: 'ga' } }, A)).body['security_group'] as Json)['id'] as string;
    const withTheirGroup = await t.call('POST', '/v2.0/ports', { port: { network_id: shared, security_groups: [groupA] } }, B);
    assert.equal(withTheirGroup.status, 404);
    assert.equal(fault(withTheirGroup)['type'], 'SecurityGroupNotFound');
    const groupB = ((await t.call('POST', '/v2.0/security-groups', { security_group: { name: 'gb' } }, B)).body['security_group'] as Json)['id'] as string;
    const remote = await t.call(
      'POST',
      '/v2.0/security-group-rules',
      { security_group_rule: { security_group_id: groupB, direction: 'ingress', remote_group_id: groupA } },
      B,
    );
    assert.equal(remote.status, 404);
    assert.equal(fault(remote)['type'], 'SecurityGroupNotFound');
  });

  it('a member cannot create for another project; a reader reads but does not write', async () => {
    const r = await t.call('POST', '/v2.0/networks', { network: { name: 'for b', project_id: 'pb' } }, A);
    assert.equal(r.status, 403);
    assert.equal(fault(r)['message'], '(rule:create_network) is disallowed by policy');
    assert.equal((await t.call('POST', '/v2.0/networks', { network: { name: 'for b', project_id: 'pb' } }, ADMIN)).status, 201);
    assert.equal((await t.call('GET', `/v2.0/networks/${netA}`, undefined, A_READER)).status, 200);
    const w = await t.call('PUT', `/v2.0/networks/${netA}`, { network: { name: 'r' } }, A_READER);
    assert.equal(w.status, 403);
    assert.equal((await t.call('POST', '/v2.0/security-groups', { security_group: { name: 'r' } }, A_READER)).status, 403);
  });

  it('an override file changes one rule; a bad file is refused and the policy in force stays', async () => {
    const before = await t.call('POST', '/v2.0/networks', { network: { name: 'before' } }, A);
    assert.equal(before.status, 201);
    await fs.writeTextAtomic(policyFile, 'create_network: "rule:admin_only"\n');
    assert.deepEqual(await policy.reload(), { ok: true, rules: policy.current().ruleNames.length });
    const after = await t.call('POST', '/v2.0/networks', { network: { name: 'after' } }, A);
    assert.equal(after.status, 403);
    assert.equal(fault(after)['message'], '(rule:create_network) is disallowed by policy');
    assert.equal((await t.call('POST', '/v2.0/networks', { network: { name: 'admin' } }, ADMIN)).status, 201);

    await fs.writeTextAtomic(policyFile, 'create_network: "rule:no_such_rule"\n');
    const bad = await policy.reload();
    assert.equal(bad.ok, false);
    assert.match(String((bad as { error: Error }).error.message), /policy rule "create_network": refers to rule:no_such_rule, which is not defined/);
    assert.equal((await t.call('POST', '/v2.0/networks', { network: { name: 'still' } }, A)).status, 403, 'the last good policy is in force');

    // A relaxed rule is the whole decision: no service check second-guesses the operator.
    await fs.writeTextAtomic(policyFile, 'create_port:device_owner: "@"\n');
    assert.equal((await policy.reload()).ok, true);
    const dhcp = await t.call('POST', '/v2.0/ports', { port: { network_id: shared, device_owner: 'network:dhcp' } }, B);
    assert.equal(dhcp.status, 201, JSON.stringify(dhcp.body));

    await fs.writeTextAtomic(policyFile, '{}\n');
    assert.equal((await policy.reload()).ok, true);
    assert.equal((await t.call('POST', '/v2.0/networks', { network: { name: 'again' } }, A)).status, 201);
  });
});
