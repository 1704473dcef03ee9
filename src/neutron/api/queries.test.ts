import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openDatastore, type KvStore } from '../../datastore/index.js';
import { realFs } from '../../lib/index.js';
import { startTestApi, type TestApi } from '../testing/index.js';

const fs = realFs();

type Json = Record<string, unknown>;

describe('Neutron API: list queries, If-Match, tags, quotas', () => {
  let dir: string;
  let kv: KvStore;
  let t: TestApi;
  let net: string;
  let subnet: string;
  const ports: Json[] = [];
  before(async () => {
    dir = await fs.makeTempDir('brindle-api-q-');
    kv = await openDatastore({ kind: 'embedded', path: dir });
    t = await startTestApi(kv, { background: false });
    net = ((await t.call('POST', '/v2.0/networks', { network: { name: 'q' } })).body['network'] as Json)['id'] as string;
    subnet = ((await t.call('POST', '/v2.0/subnets', { subnet: { network_id: net, ip_version: 4, cidr: '198.18.10.0/24' } })).body['subnet'] as Json)[
      'id'
    ] as string;
    for (const [name, owner] of [
      ['c', 'compute:nova'],
      ['a', 'compute:nova'],
      ['b', 'network:dhcp'],
      ['d', ''],
    ]) {
      ports.push((await t.call('POST', '/v2.0/ports', { port: { network_id: net, name, device_owner: owner } })).body['port'] as Json);
    }
  });
  after(async () => {
    await t?.close();
    await kv?.close();
    await fs.remove(dir);
  });

  const names = (r: { body: Json }): string[] => (r.body['ports'] as Json[]).map((p) => p['name'] as string);

  it('filters: repeated keys are OR, different keys AND, empty string matches empty', async () => {
    assert.deepEqual(names(await t.call('GET', '/v2.0/ports?name=a&name=b&sort_key=name&sort_dir=asc')), ['a', 'b']);
    assert.deepEqual(names(await t.call('GET', '/v2.0/ports?device_owner=compute%3Anova&name=a')), ['a']);
    assert.deepEqual(names(await t.call('GET', '/v2.0/ports?device_owner=')), ['d']);
    assert.deepEqual(names(await t.call('GET', `/v2.0/ports?network_id=${net}&admin_state_up=True&name=c`)), ['c']);
    assert.deepEqual(names(await t.call('GET', '/v2.0/ports?admin_state_up=False')), []);
  });

  it('fixed_ips filters: ip_address=, subnet_id=, ip_address_substr=', async () => {
    const ip = (ports[0]?.['fixed_ips'] as Json[])[0]?.['ip_address'] as string;
    assert.deepEqual(names(await t.call('GET', `/v2.0/ports?fixed_ips=${encodeURIComponent(`ip_address=${ip}`)}`)), ['c']);
    assert.equal(
      names(await t.call('GET', `/v2.0/ports?fixed_ips=${encodeURIComponent(`subnet_id=${subnet}`)}`)).length,
      4,
      'the network:dhcp port got an address too',
    );
    assert.equal(names(await t.call('GET', `/v2.0/ports?fixed_ips=${encodeURIComponent('ip_address_substr=198.18.10.')}`)).length, 4);
    assert.deepEqual(names(await t.call('GET', `/v2.0/ports?fixed_ips=${encodeURIComponent('ip_address=198.18.99.1')}`)), []);
  });

  it('lists narrowed by an index (device_id, mac_address, project_id, fixed_ips) follow changes and deletes', async () => {
    // Its own ports, removed at the end: the other tests count the network's ports.
    const made: string[] = [];
    const create = async (name: string, extra: Json): Promise<Json> => {
      const p = (await t.call('POST', '/v2.0/ports', { port: { network_id: net, name, ...extra } })).body['port'] as Json;
      made.push(p['id'] as string);
      return p;
    };
    try {
      const x = await create('vm-x', { device_id: 'vm-1' });
      await create('vm-y', { device_id: 'vm-1' });
      assert.deepEqual(names(await t.call('GET', '/v2.0/ports?device_id=vm-1&sort_key=name&sort_dir=asc')), ['vm-x', 'vm-y']);
      assert.deepEqual(names(await t.call('GET', '/v2.0/ports?device_id=vm-1&name=vm-y')), ['vm-y'], 'the other filters still apply');
      assert.deepEqual(names(await t.call('GET', `/v2.0/ports?mac_address=${encodeURIComponent(x['mac_address'] as string)}`)), ['vm-x']);
      // Changed after the index was built: the index follows.
      await t.call('PUT', `/v2.0/ports/${x['id'] as string}`, { port: { device_id: 'vm-2' } });
      assert.deepEqual(names(await t.call('GET', '/v2.0/ports?device_id=vm-1')), ['vm-y']);
      assert.deepEqual(names(await t.call('GET', '/v2.0/ports?device_id=vm-2&device_id=vm-1&sort_key=name&sort_dir=asc')), ['vm-x', 'vm-y']);
      const ip = ((x['fixed_ips'] as Json[])[0]?.['ip_address'] as string) ?? '';
      assert.deepEqual(names(await t.call('GET', `/v2.0/ports?fixed_ips=${encodeURIComponent(`ip_address=${ip}`)}&device_id=vm-2`)), ['vm-x']);
      const project = x['project_id'] as string;
      assert.ok(names(await t.call('GET', `/v2.0/ports?tenant_id=${project}`)).includes('vm-x'));
      assert.deepEqual(names(await t.call('GET', `/v2.0/ports?project_id=${project}&tenant_id=someone-else`)), [], 'both must hold');
      await t.call('DELETE', `/v2.0/ports/${x['id'] as string}`);
      made.shift();
      assert.deepEqual(names(await t.call('GET', '/v2.0/ports?device_id=vm-2')), []);
      assert.deepEqual(names(await t.call('GET', `/v2.0/ports?fixed_ips=${encodeURIComponent(`ip_address=${ip}`)}`)), []);
    } finally {
      for (const id of made) await t.call('DELETE', `/v2.0/ports/${id}`);
    }
  });

  it('fields restricts keys, on lists and on show', async () => {
    const list = await t.call('GET', '/v2.0/ports?fields=id&fields=name');
    for (const p of list.body['ports'] as Json[]) assert.deepEqual(Object.keys(p).sort(), ['id', 'name']);
    const one = await t.call('GET', `/v2.0/ports/${ports[0]?.['id'] as string}?fields=mac_address`);
    assert.deepEqual(Object.keys(one.body['port'] as Json), ['mac_address']);
  });

  it('sorting by several keys; default order is by id', async () => {
    assert.deepEqual(names(await t.call('GET', '/v2.0/ports?sort_key=name&sort_dir=desc')), ['d', 'c', 'b', 'a']);
    assert.deepEqual(names(await t.call('GET', '/v2.0/ports?sort_key=device_owner&sort_dir=asc&sort_key=name&sort_dir=desc')), ['d', 'c', 'a', 'b']);
    const ids = ((await t.call('GET', '/v2.0/ports')).body['ports'] as Json[]).map((p) => p['id'] as string);
    assert.deepEqual(ids, [...ids].sort());
  });

  it('pagination: limit, marker, page_reverse, and next/previous links as neutron-server gives them', async () => {
    const p1 = await t.call('GET', '/v2.0/ports?sort_key=name&sort_dir=asc&limit=3');
    assert.deepEqual(names(p1), ['a', 'b', 'c']);
    const links = p1.body['ports_links'] as { rel: string; href: string }[];
    assert.deepEqual(
      links.map((l) => l.rel),
      ['next', 'previous'],
      'a full page has both',
    );
    const next = new URL(links[0]?.href ?? '');
    assert.equal(next.searchParams.get('marker'), ports.find((p) => p['name'] === 'c')?.['id']);
    const p2 = await t.call('GET', `${next.pathname}${next.search}`);
    assert.deepEqual(names(p2), ['d']);
    assert.deepEqual(
      (p2.body['ports_links'] as { rel: string }[]).map((l) => l.rel),
      ['previous'],
      'a short forward page has no next',
    );
    const prev = new URL((p2.body['ports_links'] as { href: string }[])[0]?.href ?? '');
    assert.equal(prev.searchParams.get('page_reverse'), 'True');
    assert.deepEqual(names(await t.call('GET', `${prev.pathname}${prev.search}`)), ['a', 'b', 'c']);
    assert.equal((await t.call('GET', '/v2.0/ports')).body['ports_links'], undefined, 'no links without a limit');
  });

  it('If-Match on revision_number: 412 when stale, applied when current', async () => {
    const port = (await t.call('GET', `/v2.0/ports/${ports[0]?.['id'] as string}`)).body['port'] as Json;
    const rev = port['revision_number'] as number;
    const stale = await t.call('PUT', `/v2.0/ports/${port['id'] as string}`, { port: { name: 'x' } }, { 'If-Match': `revision_number=${rev - 1}` });
    assert.equal(stale.status, 412);
    assert.equal((stale.body['NeutronError'] as Json)['message'], `Constrained to ${rev - 1}, but current revision is ${rev}`);
    const ok = await t.call('PUT', `/v2.0/ports/${port['id'] as string}`, { port: { name: 'c2' } }, { 'If-Match': `revision_number=${rev}` });
    assert.equal(ok.status, 200);
    assert.equal((ok.body['port'] as Json)['revision_number'], rev + 1);
    await t.call('PUT', `/v2.0/ports/${port['id'] as string}`, { port: { name: 'c' } });
  });

  it('a subnet bumps its network revision; timestamps are second precision UTC', async () => {
    const n = (await t.call('GET', `/v2.0/networks/${net}`)).body['network'] as Json;
    assert.equal(n['revision_number'], 2);
    assert.deepEqual(n['subnets'], [subnet]);
    assert.match(n['created_at'] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('tags: set, add, check, remove, filter', async () => {
    const id = ports[1]?.['id'] as string;
    assert.equal((await t.call('PUT', `/v2.0/ports/${id}/tags`, { tags: ['red', 'blue'] })).status, 200);
    assert.equal((await t.call('PUT', `/v2.0/ports/${id}/tags/green`)).status, 201);
    assert.deepEqual((await t.call('GET', `/v2.0/ports/${id}/tags`)).body['tags'], ['blue', 'green', 'red']);
    assert.equal((await t.call('GET', `/v2.0/ports/${id}/tags/red`)).status, 204);
    assert.equal((await t.call('DELETE', `/v2.0/ports/${id}/tags/red`)).status, 204);
    assert.equal((await t.call('GET', `/v2.0/ports/${id}/tags/red`)).status, 404);
    assert.deepEqual(names(await t.call('GET', '/v2.0/ports?tags=blue,green')), ['a']);
    assert.deepEqual(names(await t.call('GET', '/v2.0/ports?not-tags-any=blue&sort_key=name&sort_dir=asc')), ['b', 'c', 'd']);
  });

  it('quotas: unlimited by default; a set limit is enforced as OverQuota', async () => {
    assert.deepEqual((await t.call('GET', '/v2.0/quotas/admin')).body['quota'], {
      network: -1,
      subnet: -1,
      port: -1,
      security_group: -1,
      security_group_rule: -1,
      subnetpool: -1,
      rbac_policy: -1,
      router: -1,
      floatingip: -1,
    });
    assert.equal((await t.call('PUT', '/v2.0/quotas/admin', { quota: { port: 4 } })).status, 200);
    const over = await t.call('POST', '/v2.0/ports', { port: { network_id: net } });
    assert.equal(over.status, 409);
    assert.equal((over.body['NeutronError'] as Json)['type'], 'OverQuota');
    assert.equal((await t.call('DELETE', '/v2.0/quotas/admin')).status, 204);
    assert.equal((await t.call('GET', '/v2.0/quotas/admin')).body['quota'] && ((await t.call('GET', '/v2.0/quotas/admin')).body['quota'] as Json)['port'], -1);
  });

  it('a member sees no admin-only attributes and only its own objects', async () => {
    const member = { 'X-Project-Id': 'other', 'X-Roles': 'member' };
    assert.deepEqual(names(await t.call('GET', '/v2.0/ports', undefined, member)), []);
    const mine = await t.call('POST', '/v2.0/networks', { network: { name: 'mine' } }, member);
    assert.equal(mine.status, 201);
    const view = mine.body['network'] as Json;
    assert.equal(view['project_id'], 'other');
    assert.equal('provider:network_type' in view, false);
    const refused = await t.call('POST', '/v2.0/networks', { network: { 'provider:network_type': 'flat', 'provider:physical_network': 'p9' } }, member);
    assert.equal(refused.status, 403);
    assert.equal((refused.body['NeutronError'] as Json)['type'], 'PolicyNotAuthorized');
  });
});
