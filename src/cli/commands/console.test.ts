// `brindle console` as operators start it: with a real Debian keystone behind `--login keystone`
// (an admin's token logs in, a member's does not), and the refusals that keep a console from
// being served to others unprotected, each one line and a non-zero exit.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, realExec, realFs, type ChildHandle } from '../../lib/index.js';
import { eventually, trackChild, trackTempDir, untrackTempDir } from '../../lib/testing.js';
import { startTestKeystone, type TestKeystone } from '../../neutron/testing/index.js';

const BRINDLE = fileURLToPath(new URL('../../../../bin/brindle', import.meta.url));

describe('brindle console: Keystone logins and refusals (real keystone)', { timeout: 120_000 }, () => {
  const fs = realFs();
  let ks: TestKeystone;
  let dir: string;
  let server: ChildHandle | undefined;
  const env = (): Record<string, string> => ({ PATH: process.env['PATH'] ?? '', BRINDLE_CONFIG: join(dir, 'empty.yaml') });
  const run = (args: string[]) =>
    realExec().run(BRINDLE, ['console', '--datastore', `embedded:${join(dir, 'ds')}`, ...args], { env: env(), timeoutMs: 30_000 });

  before(async () => {
    dir = await fs.makeTempDir('brindle-console-cli-');
    trackTempDir(dir);
    await fs.writeTextAtomic(join(dir, 'empty.yaml'), '');
    ks = await startTestKeystone();
    await ks.addUser('service', 'brindle', 'brindle-pw', 'admin');
    await ks.addUser('demo', 'demo', 'demo-pw', 'member');
  });
  after(async () => {
    if (server !== undefined) {
      server.kill('SIGTERM');
      await server.exited;
    }
    await ks?.remove();
    if (dir !== undefined) {
      await fs.remove(dir);
      untrackTempDir(dir);
    }
  });

  it('refuses to serve others without TLS and a login, or a password login without a good password: one line, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--listen', '198.18.0.1:9797', '--login', 'password', '--admin-password', 'a-long-enough-one'], /needs TLS/],
      [['--login', 'password'], /--login password needs consoleAdminPassword/],
      [['--login', 'password', '--admin-password', 'short'], /at least 12 characters/],
      [['--tls-cert', join(dir, 'x.crt')], /--tls-cert and --tls-key go together/],
      [['--login', 'keystone'], /--keystone-url/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0] ?? '', message);
    }
  });

  it("--login keystone: an admin's token opens a session, a member's does not", async () => {
    const port = await freePort();
    const s = realExec().spawn(
      BRINDLE,
      [
        'console',
        '--datastore',
        `embedded:${join(dir, 'ds')}`,
        '--listen',
        `127.0.0.1:${port}`,
        '--login',
        'keystone',
        '--keystone-url',
        ks.url,
        '--keystone-username',
        'brindle',
        '--keystone-password',
        'brindle-pw',
      ],
      { env: env() },
    );
    server = s;
    trackChild(s);
    s.stdin.end();
    s.stdout.resume();
    let logged = '';
    s.stderr.on('data', (d: Buffer) => (logged += d.toString()));
    await eventually(() => logged.includes('brindle console: serving'), { timeoutMs: 30_000 });
    assert.match(logged, /\(login: keystone\)/);
    const url = `http://127.0.0.1:${port}`;
    const login = async (token: string): Promise<{ status: number; cookie: string | null }> => {
      const r = await fetch(`${url}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-console': '1' },
        body: JSON.stringify({ token }),
      });
      await r.body?.cancel();
      return { status: r.status, cookie: r.headers.get('set-cookie') };
    };
    assert.equal((await fetch(`${url}/api/overview`)).status, 401);
    const member = await login(await ks.token('demo', 'demo-pw', 'demo'));
    assert.equal(member.status, 401);
    assert.equal(member.cookie, null);
    assert.equal((await login('not-a-token')).status, 401);
    const admin = await login(await ks.token('admin', ks.adminPassword, 'admin'));
    assert.equal(admin.status, 200);
    const cookie = admin.cookie?.split(';')[0] ?? '';
    const overview = await fetch(`${url}/api/overview`, { headers: { cookie } });
    assert.equal(overview.status, 200);
    assert.equal(((await overview.json()) as { hosts: number }).hosts, 0);
  });
});
