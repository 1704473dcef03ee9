import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { openDatastore, ResourceClient, type KvStore } from '../datastore/index.js';
import { makeTestCerts } from '../datastore/testing/index.js';
import { realFs, silentLogger } from '../lib/index.js';
import { eventually, trackTempDir, untrackTempDir } from '../lib/testing.js';
import { API_VERSION, felixHostStatusKey, resourceKey } from '../model/index.js';
import type { ErrorReply, PlanReply, SettingsReply } from './api-types.js';
import { ConsoleExposedError } from './errors.js';
import { refuseConsoleExposure, startConsole, type RunningConsole } from './start-console.js';

const fs = realFs();

async function call<T>(
  url: string,
  init: { method?: string; body?: unknown; cookie?: string; noHeader?: boolean } = {},
): Promise<{ status: number; body: T; cookie?: string }> {
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(init.noHeader === true ? {} : { 'X-Console': '1' }),
      ...(init.cookie === undefined ? {} : { Cookie: init.cookie }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const setCookie = res.headers.get('set-cookie');
  return { status: res.status, body: (await res.json()) as T, ...(setCookie === null ? {} : { cookie: setCookie.split(';')[0] ?? '' }) };
}

describe('brindle console server: settings by compare-and-swap, live events, logins (real embedded datastore, real HTTP)', { timeout: 60_000 }, () => {
  let dir: string;
  let kv: KvStore;
  let con: RunningConsole;
  const url = (p: string): string => new URL(p, con.url).toString();

  before(async () => {
    dir = await fs.makeTempDir('brindle-console-');
    trackTempDir(dir);
    kv = await openDatastore({ kind: 'embedded', path: join(dir, 'ds') });
    await new ResourceClient(kv).commit([
      {
        action: 'apply',
        resource: { apiVersion: API_VERSION, kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { asNumber: 64512, nodeToNodeMeshEnabled: true } },
      },
      {
        action: 'apply',
        resource: { apiVersion: API_VERSION, kind: 'Node', metadata: { name: 'compute-1' }, spec: { bgp: { ipv4Address: '198.18.0.11/24' } } },
      },
    ]);
    con = await startConsole({ kv, listen: { host: '127.0.0.1', port: 0 }, login: { kind: 'none' }, logger: silentLogger() });
  });

  after(async () => {
    await con?.close();
    await kv?.close();
    await fs.remove(dir);
    untrackTempDir(dir);
  });

  it('serves the built page', async () => {
    const res = await fetch(con.url);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<script type="module" src="\/app.js">/);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal((await fetch(url('/app.js'))).status, 200);
  });

  it('an invalid AS number is named on its field and nothing is written', async () => {
    const { body: s } = await call<SettingsReply>(url('/api/settings'));
    const before = (await kv.get(resourceKey({ kind: 'BGPConfiguration', name: 'default' })))?.modRevision;
    for (const path of ['/api/settings/plan', '/api/settings/apply']) {
      const r = await call<ErrorReply>(url(path), { body: { base: s.form, desired: { ...s.form, asNumber: '99999999999' } } });
      assert.equal(r.status, 422);
      assert.deepEqual(r.body.error.fields, [{ field: 'asNumber', message: 'must be between 1 and 4294967294' }]);
    }
    assert.equal((await kv.get(resourceKey({ kind: 'BGPConfiguration', name: 'default' })))?.modRevision, before);
  });

  it('plans, then applies with compare-and-swap; the new settings come back', async () => {
    const { body: s } = await call<SettingsReply>(url('/api/settings'));
    const desired = {
      ...s.form,
      asNumber: '64513',
      externalPeers: [{ name: 'border', peerIP: '198.18.0.254', asNumber: '65000', node: '', nodeSelector: '' }],
    };
    const plan = await call<PlanReply>(url('/api/settings/plan'), { body: { base: s.form, desired } });
    assert.equal(plan.status, 200);
    assert.deepEqual(
      plan.body.changes.map((c) => `${c.action} ${c.kind} ${c.name}`),
      ['update BGPConfiguration default', 'create BGPPeer border'],
    );
    // The plan wrote nothing.
    assert.equal(await new ResourceClient(kv).get('BGPPeer', 'border'), undefined);
    const applied = await call<PlanReply & { form: { asNumber: string } }>(url('/api/settings/apply'), { body: { base: s.form, desired } });
    assert.equal(applied.status, 200);
    assert.equal(applied.body.form.asNumber, '64513');
    const rc = new ResourceClient(kv);
    assert.equal((await rc.get('BGPConfiguration', 'default'))?.spec.asNumber, 64513);
    assert.deepEqual((await rc.get('BGPPeer', 'border'))?.spec, { peerIP: '198.18.0.254', asNumber: 65000 });
  });

  it("someone else's change since the page loaded is reported, and theirs is kept", async () => {
    const { body: s } = await call<SettingsReply>(url('/api/settings'));
    const rc = new ResourceClient(kv);
    const cur = await rc.get('BGPConfiguration', 'default');
    assert.ok(cur !== undefined);
    await rc.commit([{ action: 'replace', resource: { ...cur, spec: { ...cur.spec, asNumber: 64600 } } }]);
    const r = await call<ErrorReply>(url('/api/settings/apply'), { body: { base: s.form, desired: { ...s.form, asNumber: '64700', ipv6: false } } });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'CONSOLE_CONFLICT');
    assert.deepEqual(r.body.error.conflicts, [{ what: 'AS number', was: '64513', now: '64600' }]);
    assert.equal(r.body.error.current?.asNumber, '64600');
    assert.equal((await rc.get('BGPConfiguration', 'default'))?.spec.asNumber, 64600);
    assert.equal(await rc.get('FelixConfiguration', 'default'), undefined, 'nothing of the refused form was written');
  });

  it('a write without the page header is refused (no cross-site forms)', async () => {
    const { body: s } = await call<SettingsReply>(url('/api/settings'));
    const r = await call<ErrorReply>(url('/api/settings/apply'), { body: { base: s.form, desired: s.form }, noHeader: true });
    assert.equal(r.status, 403);
    const bad = await call<ErrorReply>(url('/api/settings/plan'), { body: { base: s.form } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /^settings: desired/);
  });

  it('tells an open page within a second which topics a datastore change touched', async () => {
    const res = await fetch(url('/api/events'));
    assert.ok(res.body !== null);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // One reader loop appends everything that arrives; `until` watches the text.
    const pump = (async () => {
      for (;;) {
        const { value, done } = (await reader.read()) as { value?: Uint8Array; done: boolean };
        if (done) return;
        text += decoder.decode(value);
      }
    })().catch(() => undefined);
    const until = (re: RegExp, from = 0): Promise<number> =>
      eventually(() => re.test(text.slice(from)), { timeoutMs: 1_000, what: `an event matching ${String(re)}` });
    // The first event, at connection, names every topic (a page that reconnects refreshes all).
    await until(/"topics":\["endpoints","hosts","networks","policies","settings"\]/);
    const seen = text.length;
    await kv.put(felixHostStatusKey('no-region', 'compute-1'), JSON.stringify({ time: new Date().toISOString(), uptime: 1, first_update: true }));
    await until(/"topics":\[[^\]]*"hosts"/, seen);
    await reader.cancel();
    await pump;
    const hosts = await call<{ items: { name: string; alive: boolean }[] }>(url('/api/hosts'));
    assert.deepEqual(hosts.body.items, [{ ...hosts.body.items[0], name: 'compute-1', alive: true }]);
  });

  it('checks the route the router matched, not the raw path: an encoded /api/ is still guarded', async () => {
    const { body: f } = await call<SettingsReply>(url('/api/settings'));
    const r = await call<ErrorReply>(url('/%61pi/settings/apply'), { body: { base: f.form, desired: { ...f.form, ipv6: false } }, noHeader: true });
    assert.equal(r.status, 403);
    assert.equal(await new ResourceClient(kv).get('FelixConfiguration', 'default'), undefined);
  });

  it('without a login, answers only pages loaded from loopback, and writes only from its own origin', async () => {
    const { body: f } = await call<SettingsReply>(url('/api/settings'));
    const port = new URL(con.url).port;
    // fetch() will not send another Host; a plain request will, as a rebound browser does.
    const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: Number(port), path: '/api/overview', headers: { Host: `evil.example:${port}` } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(rebound.status, 403);
    assert.equal((JSON.parse(rebound.body) as ErrorReply).error.code, 'CONSOLE_FOREIGN_HOST');
    const cross = await fetch(url('/api/settings/apply'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-console': '1', origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
      body: JSON.stringify({ base: f.form, desired: { ...f.form, ipv6: false } }),
    });
    assert.equal(cross.status, 403);
    assert.equal(await new ResourceClient(kv).get('FelixConfiguration', 'default'), undefined);
  });

  it('refuses to apply more than one transaction can hold, and writes nothing', async () => {
    const { body: f } = await call<SettingsReply>(url('/api/settings'));
    const ipPools = Array.from({ length: 101 }, (_, i) => ({ name: `p${i}`, cidr: `198.18.${i}.0/24`, natOutgoing: false, disabled: false }));
    const r = await call<ErrorReply>(url('/api/settings/apply'), { body: { base: f.form, desired: { ...f.form, ipPools } } });
    assert.equal(r.status, 422);
    assert.match(r.body.error.fields?.[0]?.message ?? '', /101 resources would change at once; apply at most 100/);
    assert.deepEqual((await new ResourceClient(kv).list('IPPool')).items, []);
  });

  it('unknown things are 404 in the console’s error shape', async () => {
    const r = await call<ErrorReply>(url('/api/vms/nope'));
    assert.equal(r.status, 404);
    assert.equal(r.body.error.code, 'CONSOLE_NOT_FOUND');
  });
});

describe('brindle console logins and exposure', { timeout: 60_000 }, () => {
  let dir: string;
  let kv: KvStore;
  const running: RunningConsole[] = [];

  before(async () => {
    dir = await fs.makeTempDir('brindle-console-login-');
    trackTempDir(dir);
    kv = await openDatastore({ kind: 'embedded', path: join(dir, 'ds') });
  });
  after(async () => {
    for (const c of running) await c.close();
    await kv?.close();
    await fs.remove(dir);
    untrackTempDir(dir);
  });

  it('refuses to serve others without TLS and a login', () => {
    const listen = { host: '198.18.0.1', port: 9797 };
    assert.throws(() => refuseConsoleExposure({ listen, login: { kind: 'none' } }), ConsoleExposedError);
    assert.throws(() => refuseConsoleExposure({ listen, login: { kind: 'password', password: 'a-long-password' } }), /needs TLS/);
    assert.throws(() => refuseConsoleExposure({ listen, login: { kind: 'none' }, tls: { cert: 'c', key: 'k' } }), /needs a login/);
    refuseConsoleExposure({ listen, login: { kind: 'password', password: 'a-long-password' }, tls: { cert: 'c', key: 'k' } });
    refuseConsoleExposure({ listen: { host: '127.0.0.1', port: 1 }, login: { kind: 'none' } });
  });

  it('with a password: nothing without a session, a wrong password refused, a session after the right one, none after logout', async () => {
    const con = await startConsole({
      kv,
      listen: { host: '127.0.0.1', port: 0 },
      login: { kind: 'password', password: 'correct horse battery' },
      logger: silentLogger(),
    });
    running.push(con);
    const url = (p: string): string => new URL(p, con.url).toString();
    assert.equal((await call<ErrorReply>(url('/api/overview'))).body.error.code, 'CONSOLE_LOGIN_REQUIRED');
    assert.deepEqual((await call(url('/api/session'))).body, { login: 'password', loggedIn: false });
    const wrong = await call<ErrorReply>(url('/api/login'), { body: { password: 'wrong' } });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.cookie, undefined);
    const ok = await call(url('/api/login'), { body: { password: 'correct horse battery' } });
    assert.equal(ok.status, 200);
    assert.ok(ok.cookie?.startsWith('brindle_console='));
    assert.equal((await call(url('/api/overview'), { ...(ok.cookie === undefined ? {} : { cookie: ok.cookie }) })).status, 200);
    await call(url('/api/logout'), { body: {}, ...(ok.cookie === undefined ? {} : { cookie: ok.cookie }) });
    assert.equal((await call(url('/api/overview'), { ...(ok.cookie === undefined ? {} : { cookie: ok.cookie }) })).status, 401);
  });

  it('serves HTTPS with the given certificate, and marks its session cookie Secure', async () => {
    const certs = join(dir, 'certs');
    await makeTestCerts(certs, ['console']);
    const tls = { cert: await fs.readText(join(certs, 'console.crt')), key: await fs.readText(join(certs, 'console.key')) };
    const ca = await fs.readText(join(certs, 'ca.crt'));
    const con = await startConsole({
      kv,
      listen: { host: '127.0.0.1', port: 0 },
      login: { kind: 'password', password: 'correct horse battery' },
      tls,
      logger: silentLogger(),
    });
    running.push(con);
    assert.ok(con.url.startsWith('https://'));
    const reply = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
      const body = JSON.stringify({ password: 'correct horse battery' });
      const req = request(
        new URL('/api/login', con.url),
        { method: 'POST', ca, headers: { 'Content-Type': 'application/json', 'X-Console': '1', 'Content-Length': Buffer.byteLength(body) } },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, cookie: String(res.headers['set-cookie']?.[0] ?? '') }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(reply.status, 200);
    assert.match(reply.cookie, /; HttpOnly; SameSite=Strict; Secure$/);
  });
});
