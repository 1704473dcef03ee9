// Several API servers on one datastore: concurrent port creates over two real `brindle api`
// processes on a real etcd never hand out one address twice, fail cleanly when the pool runs
// out, and leave no stray allocation behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { openDatastore, type KvStore } from '../datastore/index.js';
import { freePort, startTestEtcd, type TestEtcd } from '../datastore/testing/index.js';
import { realExec, realFs, type ChildHandle } from '../lib/index.js';
import { trackChild } from '../lib/testing.js';
import { eventually } from './testing/index.js';

const BRINDLE = fileURLToPath(new URL('../../../bin/brindle', import.meta.url));
type Json = Record<string, unknown>;

type Call = (base: string, method: string, path: string, body?: unknown) => Promise<{ status: number; body: Json }>;

/** Requests as `project` (noauth's X-Project-Id), or as the servers' default project. */
function callAs(project?: string): Call {
  return async (base, method, path, body) => {
    const headers = { 'content-type': 'application/json', ...(project === undefined ? {} : { 'x-project-id': project }) };
    const r = await fetch(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await r.text();
    return { status: r.status, body: text === '' ? {} : (JSON.parse(text) as Json) };
  };
}

const call = callAs();

describe('two brindle api processes on one etcd', () => {
  let etcd: TestEtcd;
  let kv: KvStore;
  let dir: string;
  const servers: { child: ChildHandle; url: string }[] = [];

  before(async () => {
    etcd = await startTestEtcd();
    kv = await openDatastore(etcd.config);
    dir = await realFs().makeTempDir('brindle-conc-');
    await realFs().writeTextAtomic(`${dir}/empty.yaml`, '');
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', BRINDLE_CONFIG: `${dir}/empty.yaml` };
      const child = realExec().spawn(BRINDLE, ['api', '--datastore', `etcd:${etcd.endpoint}`, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn'], { env });
      trackChild(child);
      child.stdin.end();
      child.stdout.resume();
      child.stderr.resume();
      const url = `http://127.0.0.1:${port}`;
      servers.push({ child, url });
      await eventually(async () => (await fetch(`${url}/`).catch(() => undefined))?.status === 200, 20_000);
    }
  });
  after(async () => {
    for (const s of servers) {
      s.child.kill('SIGTERM');
      await s.child.exited;
    }
    await kv?.close();
    await etcd?.stop();
    if (dir !== undefined) await realFs().remove(dir);
  });

  async function networkWith(cidr: string): Promise<string> {
    const a = servers[0]?.url ?? '';
    const net = (await call(a, 'POST', '/v2.0/networks', { network: { name: cidr } })).body['network'] as Json;
    const sub = await call(a, 'POST', '/v2.0/subnets', { subnet: { network_id: net['id'], ip_version: 4, cidr } });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
    return net['id'] as string;
  }

  async function createMany(network: string, n: number): Promise<{ status: number; body: Json }[]> {
    return Promise.all(
      Array.from({ length: n }, (_, i) => call(servers[i % 2]?.url ?? '', 'POST', '/v2.0/ports', { port: { network_id: network, name: `p${i}` } })),
    );
  }

  it('200 concurrent creates on a /24 get 200 distinct addresses', async () => {
    const net = await networkWith('198.18.50.0/24');
    const results = await createMany(net, 200);
    assert.deepEqual([...new Set(results.map((r) => r.status))], [201], JSON.stringify(results.find((r) => r.status !== 201)?.body));
    const ips = results.map((r) => ((r.body['port'] as Json)['fixed_ips'] as Json[])[0]?.['ip_address']);
    assert.equal(new Set(ips).size, 200);
    const macs = results.map((r) => (r.body['port'] as Json)['mac_address']);
    assert.equal(new Set(macs).size, 200);
  });

  it('200 concurrent creates on a /25 (125 addresses): 125 succeed, 75 get 409 IpAddressGenerationFailure, nothing leaks', async () => {
    const net = await networkWith('198.18.51.0/25');
    const results = await createMany(net, 200);
    const ok = results.filter((r) => r.status === 201);
    const full = results.filter((r) => r.status === 409);
    assert.equal(
      ok.length + full.length,
      200,
      `unexpected statuses: ${JSON.stringify(results.filter((r) => r.status !== 201 && r.status !== 409).map((r) => r.body))}`,
    );
    assert.equal(ok.length, 125);
    for (const r of full) assert.equal((r.body['NeutronError'] as Json)['type'], 'IpAddressGenerationFailure');
    const ips = ok.map((r) => ((r.body['port'] as Json)['fixed_ips'] as Json[])[0]?.['ip_address'] as string);
    assert.equal(new Set(ips).size, 125);
    const listed = (await call(servers[1]?.url ?? '', 'GET', `/v2.0/ports?network_id=${net}`)).body['ports'] as Json[];
    assert.equal(listed.length, 125);
    const subnet = (listed[0]?.['fixed_ips'] as Json[])[0]?.['subnet_id'] as string;
    const allocations = (await kv.list(`/brindle/neutron/v1/ipam/${subnet}/`)).items;
    assert.deepEqual(allocations.map((a) => a.value).sort(), listed.map((p) => p['id'] as string).sort(), 'every allocation belongs to a port that exists');
    const macs = (await kv.list(`/brindle/neutron/v1/macs/${net}/`)).items;
    assert.equal(macs.length, 125);
  });

  /** `n` port creates at once in `project`, spread over both servers. */
  async function createInProject(network: string, project: string, n: number): Promise<{ status: number; body: Json }[]> {
    return Promise.all(
      Array.from({ length: n }, (_, i) => callAs(project)(servers[i % 2]?.url ?? '', 'POST', '/v2.0/ports', { port: { network_id: network, name: `q${i}` } })),
    );
  }

  async function projectPorts(project: string): Promise<Json[]> {
    return (await call(servers[0]?.url ?? '', 'GET', `/v2.0/ports?project_id=${project}`)).body['ports'] as Json[];
  }

  it('60 concurrent creates against a port quota of 20 end with exactly 20, the rest OverQuota; a delete frees one', async () => {
    const net = await networkWith('198.18.52.0/24');
    const admin = servers[0]?.url ?? '';
    assert.equal((await call(admin, 'PUT', '/v2.0/quotas/quota-a', { quota: { port: 20 } })).status, 200);
    const results = await createInProject(net, 'quota-a', 60);
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 20, JSON.stringify(results.filter((r) => r.status !== 201 && r.status !== 409).map((r) => r.body)));
    assert.deepEqual([...new Set(results.filter((r) => r.status !== 201).map((r) => (r.body['NeutronError'] as Json)['type']))], ['OverQuota']);
    assert.equal((await projectPorts('quota-a')).length, 20);
    const one = (results.find((r) => r.status === 201)?.body['port'] as Json)['id'] as string;
    assert.equal((await callAs('quota-a')(servers[1]?.url ?? '', 'DELETE', `/v2.0/ports/${one}`)).status, 204);
    const again = await createInProject(net, 'quota-a', 5);
    assert.deepEqual(again.map((r) => r.status).sort(), [201, 409, 409, 409, 409]);
    assert.equal((await projectPorts('quota-a')).length, 20);
  });

  it('a limit set on a project that already has ports counts them first: 5 there, limit 7, 10 concurrent creates, 2 succeed', async () => {
    const net = await networkWith('198.18.53.0/24');
    const admin = servers[0]?.url ?? '';
    const before = await createInProject(net, 'quota-b', 5);
    assert.deepEqual([...new Set(before.map((r) => r.status))], [201]);
    assert.equal((await call(admin, 'PUT', '/v2.0/quotas/quota-b', { quota: { port: 7 } })).status, 200);
    const results = await createInProject(net, 'quota-b', 10);
    assert.equal(results.filter((r) => r.status === 201).length, 2);
    assert.equal((await projectPorts('quota-b')).length, 7);
    // Unlimited again: the counter goes, creates go through.
    assert.equal((await call(admin, 'PUT', '/v2.0/quotas/quota-b', { quota: { port: -1 } })).status, 200);
    assert.equal((await createInProject(net, 'quota-b', 1))[0]?.status, 201);
    assert.equal(await kv.get('/brindle/neutron/v1/quota-usage/quota-b/port'), undefined);
  });

  it('60 concurrent network creates against a network quota of 3 end with exactly 3', async () => {
    const admin = servers[0]?.url ?? '';
    assert.equal((await call(admin, 'PUT', '/v2.0/quotas/quota-c', { quota: { network: 3 } })).status, 200);
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => callAs('quota-c')(servers[i % 2]?.url ?? '', 'POST', '/v2.0/networks', { network: { name: `n${i}` } })),
    );
    assert.equal(
      results.filter((r) => r.status === 201).length,
      3,
      JSON.stringify(results.filter((r) => r.status !== 201 && r.status !== 409).map((r) => r.body)),
    );
    const nets = (await call(admin, 'GET', '/v2.0/networks?project_id=quota-c')).body['networks'] as Json[];
    assert.equal(nets.length, 3);
  });

  it('a bulk create of 100 ports is one request and a handful of transactions, 100 distinct addresses', async () => {
    const net = await networkWith('198.18.54.0/24');
    const before = await kv.revision();
    const r = await call(servers[0]?.url ?? '', 'POST', '/v2.0/ports', { ports: Array.from({ length: 100 }, (_, i) => ({ network_id: net, name: `b${i}` })) });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const ports = r.body['ports'] as Json[];
    assert.equal(ports.length, 100);
    assert.deepEqual(
      ports.map((p) => p['name']),
      Array.from({ length: 100 }, (_, i) => `b${i}`),
      'in the order asked',
    );
    assert.equal(new Set(ports.map((p) => (p['fixed_ips'] as Json[])[0]?.['ip_address'])).size, 100);
    assert.equal(new Set(ports.map((p) => p['mac_address'])).size, 100);
    // Each transaction is one revision: 100 ports one by one would take 100.
    const used = (await kv.revision()) - before;
    assert.ok(used <= 5, `${used} revisions for the bulk create`);
  });

  it('a bulk create is all or nothing: an address taken in its third transaction undoes the first two', async () => {
    const net = await networkWith('198.18.55.0/24');
    const a = servers[1]?.url ?? '';
    const taken = await call(a, 'POST', '/v2.0/ports', { port: { network_id: net, name: 'holder' } });
    const takenIp = ((taken.body['port'] as Json)['fixed_ips'] as Json[])[0] as Json;
    const items: Json[] = Array.from({ length: 80 }, (_, i) => ({ network_id: net, name: `all-${i}` }));
    items[75] = { network_id: net, name: 'clash', fixed_ips: [{ subnet_id: takenIp['subnet_id'], ip_address: takenIp['ip_address'] }] };
    const r = await call(a, 'POST', '/v2.0/ports', { ports: items });
    assert.equal(r.status, 409, JSON.stringify(r.body));
    assert.equal((r.body['NeutronError'] as Json)['type'], 'IpAddressAlreadyAllocated');
    const listed = (await call(a, 'GET', `/v2.0/ports?network_id=${net}`)).body['ports'] as Json[];
    assert.deepEqual(
      listed.map((p) => p['name']),
      ['holder'],
      'no port of the bulk create is left',
    );
    const allocations = (await kv.list(`/brindle/neutron/v1/ipam/${String(takenIp['subnet_id'])}/`)).items;
    assert.equal(allocations.length, 1, 'no address of the bulk create is left');
  });

  it('a bulk create beyond the port quota creates nothing (OverQuota)', async () => {
    const net = await networkWith('198.18.56.0/24');
    const admin = servers[0]?.url ?? '';
    assert.equal((await call(admin, 'PUT', '/v2.0/quotas/quota-d', { quota: { port: 5 } })).status, 200);
    const r = await callAs('quota-d')(admin, 'POST', '/v2.0/ports', { ports: Array.from({ length: 6 }, (_, i) => ({ network_id: net, name: `d${i}` })) });
    assert.equal(r.status, 409);
    assert.equal((r.body['NeutronError'] as Json)['type'], 'OverQuota');
    assert.equal((await projectPorts('quota-d')).length, 0);
    const fits = await callAs('quota-d')(admin, 'POST', '/v2.0/ports', { ports: Array.from({ length: 5 }, (_, i) => ({ network_id: net, name: `d${i}` })) });
    assert.equal(fits.status, 201);
    assert.equal((await projectPorts('quota-d')).length, 5);
  });

  it('a security group with more rules than one etcd transaction allows still deletes, rules and all', async () => {
    const a = servers[0]?.url ?? '';
    const sg = ((await call(a, 'POST', '/v2.0/security-groups', { security_group: { name: 'many' } })).body['security_group'] as Json)['id'] as string;
    for (let i = 0; i < 130; i++) {
      const r = await call(a, 'POST', '/v2.0/security-group-rules', {
        security_group_rule: { security_group_id: sg, direction: 'ingress', protocol: 'tcp', port_range_min: 1000 + i, port_range_max: 1000 + i },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    const del = await call(servers[1]?.url ?? '', 'DELETE', `/v2.0/security-groups/${sg}`);
    assert.equal(del.status, 204, JSON.stringify(del.body));
    const left = (await call(a, 'GET', `/v2.0/security-group-rules?security_group_id=${sg}`)).body['security_group_rules'] as Json[];
    assert.equal(left.length, 0);
    assert.equal(await kv.get(`/calico/resources/v3/projectcalico.org/networkpolicies/openstack/ossg.default.${sg}`), undefined);
  });
});
