// Keystone auth with a real Debian keystone (sqlite, fernet tokens): the client's validation,
// and `brindle api`'s Neutron API with --auth keystone, driven by the real `openstack` CLI.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { openDatastore, type KvStore } from '../../datastore/index.js';
import { freePort, realClock, realExec, realFs } from '../../lib/index.js';
import { trackTempDir, untrackTempDir } from '../../lib/testing.js';
import { keystoneAuth } from '../api/keystone-auth.js';
import { eventually, startFakeNova, startTestApi, startTestKeystone, type TestApi, type TestKeystone } from '../testing/index.js';
import { fetchHttp, KeystoneClient } from './keystone-client.js';

type Json = Record<string, unknown>;

describe('Keystone auth against a real keystone', () => {
  let ks: TestKeystone;
  let dir: string;
  let kv: KvStore;
  let api: TestApi;
  let client: KeystoneClient;
  const who: Record<string, { projectId: string; userId: string }> = {};

  before(async () => {
    ks = await startTestKeystone();
    const apiPort = await freePort();
    await ks.addEndpoint('network', 'neutron', `http://127.0.0.1:${apiPort}`);
    who['demo'] = await ks.addUser('demo', 'demo', 'demo-pw', 'member');
    who['alt'] = await ks.addUser('alt_demo', 'alt', 'alt-pw', 'member');
    // Brindle's service user: validating others' tokens takes the admin (or service) role.
    who['brindle'] = await ks.addUser('service', 'brindle', 'brindle-pw', 'admin');
    client = new KeystoneClient(
      { authUrl: ks.url, username: 'brindle', password: 'brindle-pw', projectName: 'service', userDomainName: 'Default', projectDomainName: 'Default' },
      { http: fetchHttp, clock: realClock() },
    );
    dir = await realFs().makeTempDir('brindle-keystone-api-');
    trackTempDir(dir);
    kv = await openDatastore({ kind: 'embedded', path: `${dir}/ds` });
    api = await startTestApi(kv, {
      background: false,
      listen: { host: '127.0.0.1', port: apiPort },
      authenticator: keystoneAuth({ client, clock: realClock() }),
    });
  });
  after(async () => {
    await api?.close();
    await kv?.close();
    await ks?.remove();
    if (dir !== undefined) {
      await realFs().remove(dir);
      untrackTempDir(dir);
    }
  });

  const call = async (method: string, path: string, token: string | undefined, extra: { body?: unknown; headers?: Record<string, string> } = {}) => {
    const r = await fetch(`${api.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { 'x-auth-token': token }), ...extra.headers },
      ...(extra.body === undefined ? {} : { body: JSON.stringify(extra.body) }),
    });
    const text = await r.text();
    return { status: r.status, headers: r.headers, body: (text === '' ? {} : JSON.parse(text)) as Json };
  };

  // One scenario: tokens from the keystone started above, one API in front of it.
  it('validates tokens, scopes requests to the token\u2019s project, refuses the rest', async (t: TestContext) => {
    let demoToken = '';
    let demoNet = '';

    await t.test('the client reads project, user and roles from a token; a forged or revoked one is not valid', async () => {
      demoToken = await ks.token('demo', 'demo-pw', 'demo');
      const info = await client.validate(demoToken);
      assert.equal(info?.projectId, who['demo']?.projectId);
      assert.equal(info?.userId, who['demo']?.userId);
      assert.ok(info?.roles.includes('member') === true && !info.roles.includes('admin'), `roles ${JSON.stringify(info?.roles)}`);
      assert.ok((info?.expiresAt ?? 0) > Date.now());
      assert.equal(await client.validate('gAAAAABforged-token'), undefined);
      const doomed = await ks.token('demo', 'demo-pw', 'demo');
      await ks.revoke(doomed);
      assert.equal(await client.validate(doomed), undefined);
    });

    await t.test('no token or a forged one: 401 in Keystone\u2019s words, and nothing is written', async () => {
      for (const token of [undefined, 'gAAAAABforged-token']) {
        const r = await call('POST', '/v2.0/networks', token, { body: { network: { name: 'never' } } });
        assert.equal(r.status, 401);
        assert.deepEqual(r.body, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
        assert.equal(r.headers.get('www-authenticate'), `Keystone uri="${ks.url.replace(/\/v3$/, '')}"`);
      }
      assert.equal((await call('GET', '/v2.0/extensions', undefined)).status, 401, 'every /v2.0 route, not only the collections');
      assert.equal((await call('GET', '/', undefined)).status, 200, 'the version document needs no token');
      const admin = await ks.token('admin', ks.adminPassword, 'admin');
      const all = await call('GET', '/v2.0/networks', admin);
      assert.deepEqual(
        (all.body['networks'] as Json[]).map((n) => n['name']),
        [],
      );
    });

    await t.test('a member works in its own project, whatever X-Project-Id or X-Roles say', async () => {
      const r = await call('POST', '/v2.0/networks', demoToken, {
        body: { network: { name: 'demo-net' } },
        headers: { 'x-project-id': 'spoofed', 'x-roles': 'admin' },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const net = r.body['network'] as Json;
      demoNet = net['id'] as string;
      assert.equal(net['project_id'], who['demo']?.projectId);
      assert.equal(net['provider:network_type'], undefined, 'a member does not see provider attributes');
      const bind = await call('POST', '/v2.0/ports', demoToken, { body: { port: { network_id: demoNet, 'binding:host_id': 'compute-1' } } });
      assert.equal(bind.status, 403, 'binding:* is for admins');
      assert.equal((bind.body['NeutronError'] as Json)['type'], 'PolicyNotAuthorized');
      const provider = await call('POST', '/v2.0/networks', demoToken, { body: { network: { name: 'p', 'provider:network_type': 'flat' } } });
      assert.equal(provider.status, 403, 'provider:* is for admins');
      const mine = await call('GET', '/v2.0/ports', demoToken);
      assert.deepEqual(mine.body['ports'], [], 'and nothing was written');
    });

    await t.test('another project\u2019s member gets 404 for it, and an admin sees it', async () => {
      const alt = await ks.token('alt', 'alt-pw', 'alt_demo');
      assert.equal((await call('GET', `/v2.0/networks/${demoNet}`, alt)).status, 404);
      assert.equal((await call('DELETE', `/v2.0/networks/${demoNet}`, alt)).status, 404);
      assert.deepEqual(((await call('GET', '/v2.0/networks', alt)).body['networks'] as Json[]).length, 0);
      const admin = await ks.token('admin', ks.adminPassword, 'admin');
      const seen = await call('GET', `/v2.0/networks/${demoNet}`, admin);
      assert.equal(seen.status, 200);
      assert.equal((seen.body['network'] as Json)['provider:network_type'], 'local', 'an admin sees them');
    });

    await t.test('the openstack CLI with password auth drives the API through the catalog', async () => {
      const env: Record<string, string> = {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        HOME: dir,
        LANG: 'C.UTF-8',
        OS_AUTH_URL: ks.url,
        OS_USERNAME: 'demo',
        OS_PASSWORD: 'demo-pw',
        OS_PROJECT_NAME: 'demo',
        OS_USER_DOMAIN_NAME: 'Default',
        OS_PROJECT_DOMAIN_NAME: 'Default',
        OS_IDENTITY_API_VERSION: '3',
        OS_REGION_NAME: 'RegionOne',
      };
      const os = async (...args: string[]): Promise<Json> => {
        const r = await realExec().run('/usr/bin/openstack', [...args, '-f', 'json'], { env, timeoutMs: 60_000 });
        assert.equal(r.code, 0, `openstack ${args.join(' ')}: ${r.stderr}`);
        return JSON.parse(r.stdout) as Json;
      };
      const subnet = await os('subnet', 'create', '--network', demoNet, '--subnet-range', '198.18.70.0/24', 'demo-sub');
      assert.equal(subnet['project_id'], who['demo']?.projectId);
      const sg = await os('security', 'group', 'create', 'web');
      const port = await os('port', 'create', '--network', demoNet, '--security-group', sg['id'] as string, 'demo-port');
      assert.equal(port['project_id'], who['demo']?.projectId);
      assert.match(JSON.stringify(port['fixed_ips']), /198\.18\.70\./);
    });

    await t.test('port events reach Nova with the service token, sent again after a 503 and with a fresh token after a 401', async () => {
      const nova = await startFakeNova({ refuseFirst: [503, 401] });
      const withNova = await startTestApi(kv, {
        background: false,
        authenticator: keystoneAuth({ client, clock: realClock() }),
        novaUrl: nova.url,
        novaToken: (fresh) => client.serviceToken(fresh),
      });
      try {
        const VM = '4c7d9ad6-0a49-4a26-8a4b-6f3d1e3c2a10';
        const port = (
          await fetch(`${withNova.url}/v2.0/ports`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-auth-token': demoToken },
            body: JSON.stringify({ port: { network_id: demoNet, device_id: VM, device_owner: 'compute:nova' } }),
          }).then(async (r) => (await r.json()) as Json)
        )['port'] as Json;
        const r = await fetch(`${withNova.url}/v2.0/ports/${port['id'] as string}`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json', 'x-auth-token': demoToken },
          body: JSON.stringify({ port: { admin_state_up: false } }),
        });
        assert.equal(r.status, 200);
        await eventually(() => nova.events.some((e) => e['name'] === 'network-changed' && e['tag'] === port['id']), {
          timeoutMs: 15_000,
          what: 'network-changed delivered after a 503 and a 401',
        });
        assert.equal(nova.headers.length, 3, 'refused twice, taken the third time');
        const tokens = nova.headers.map((h) => h['x-auth-token'] as string);
        assert.notEqual(tokens[2], tokens[1], 'a fresh token after the 401');
        const info = await client.validate(tokens[2] ?? '');
        assert.equal(info?.userId, who['brindle']?.userId, "Brindle's service user");
      } finally {
        await withNova.close();
        await nova.close();
      }
    });

    await t.test('Keystone unreachable: a token not yet validated gets 503, never a pass; a cached one still works', async () => {
      const fresh = await ks.token('demo', 'demo-pw', 'demo');
      await ks.stop();
      try {
        const r = await call('GET', '/v2.0/networks', fresh);
        assert.equal(r.status, 503);
        assert.equal((r.body['NeutronError'] as Json)['type'], 'ServiceUnavailable');
        assert.equal((await call('GET', `/v2.0/networks/${demoNet}`, demoToken)).status, 200);
      } finally {
        await ks.start();
      }
    });
  });
});
