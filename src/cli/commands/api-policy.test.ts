// `brindle api --auth keystone --policy-file F --workers 2`: the real command behind a real
// Debian keystone. An override file changes one rule's outcome for a member's token; SIGHUP to
// the primary (by PID) makes every worker read the file again; a broken file is refused with the
// rule it is about, at start (no server) and on SIGHUP (the policy in force stays).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, realExec, realFs, type ChildHandle } from '../../lib/index.js';
import { eventually, trackChild, trackTempDir, untrackTempDir } from '../../lib/testing.js';
import { startTestKeystone, type TestKeystone } from '../../neutron/testing/index.js';

const BRINDLE = fileURLToPath(new URL('../../../../bin/brindle', import.meta.url));
type Json = Record<string, unknown>;

describe('brindle api --policy-file, reloaded on SIGHUP (real keystone, two workers)', () => {
  const fs = realFs();
  let ks: TestKeystone;
  let dir: string;
  let policyFile: string;
  let server: ChildHandle | undefined;
  let logged = '';
  let url = '';
  let member = '';
  let admin = '';
  const keystoneArgs = (): string[] => ['--auth', 'keystone', '--keystone-url', ks.url, '--keystone-username', 'brindle', '--keystone-password', 'brindle-pw'];
  const env = (): Record<string, string> => ({ PATH: process.env['PATH'] ?? '', BRINDLE_CONFIG: join(dir, 'empty.yaml') });

  const createNetwork = async (token: string, name: string): Promise<{ status: number; body: Json }> => {
    const r = await fetch(`${url}/v2.0/networks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': token, connection: 'close' },
      body: JSON.stringify({ network: { name } }),
    });
    return { status: r.status, body: (await r.json()) as Json };
  };
  /** Several requests on new connections, so both workers answer some. */
  const statuses = async (token: string, n = 6): Promise<number[]> => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await createNetwork(token, `probe-${i}`)).status);
    return out;
  };

  before(async () => {
    dir = await fs.makeTempDir('brindle-api-policy-');
    trackTempDir(dir);
    await fs.writeTextAtomic(join(dir, 'empty.yaml'), '');
    policyFile = join(dir, 'policy.yaml');
    await fs.writeTextAtomic(policyFile, '# Neutron defaults only\n');
    ks = await startTestKeystone();
    await ks.addUser('service', 'brindle', 'brindle-pw', 'admin');
    await ks.addUser('demo', 'demo', 'demo-pw', 'member');
    member = await ks.token('demo', 'demo-pw', 'demo');
    admin = await ks.token('admin', ks.adminPassword, 'admin');
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

  it('a broken policy file stops the server from starting, with one line naming the rule', async () => {
    const bad = join(dir, 'bad.yaml');
    await fs.writeTextAtomic(bad, 'create_port: "role:member and"\n');
    const port = await freePort();
    const r = await realExec().run(
      BRINDLE,
      ['api', '--datastore', `embedded:${join(dir, 'ds-bad')}`, '--listen', `127.0.0.1:${port}`, ...keystoneArgs(), '--policy-file', bad],
      { env: env(), timeoutMs: 30_000 },
    );
    assert.notEqual(r.code, 0);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] ?? '', /policy rule "create_port": a check is missing/);
  });

  it("a rule from the file decides the member's request; SIGHUP reloads it in every worker; a broken reload keeps the last policy", async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const s = realExec().spawn(
      BRINDLE,
      [
        'api',
        '--workers',
        '2',
        '--datastore',
        `embedded:${join(dir, 'ds')}`,
        '--listen',
        `127.0.0.1:${port}`,
        '--log-level',
        'info',
        ...keystoneArgs(),
        '--policy-file',
        policyFile,
      ],
      { env: env() },
    );
    server = s;
    trackChild(s);
    s.stdin.end();
    s.stdout.resume();
    s.stderr.on('data', (d: Buffer) => (logged += d.toString()));
    await eventually(() => logged.split('\n').filter((l) => l.includes('"Neutron API listening"')).length >= 2, {
      timeoutMs: 30_000,
      what: 'both workers listening',
    });

    assert.deepEqual(await statuses(member), [201, 201, 201, 201, 201, 201], 'Neutron default: a member creates networks in its project');

    await fs.writeTextAtomic(policyFile, 'create_network: "rule:admin_only"\n');
    s.kill('SIGHUP');
    await eventually(() => logged.split('\n').filter((l) => l.includes('"policy reloaded"')).length >= 2, { timeoutMs: 10_000, what: 'both workers reloaded' });
    assert.deepEqual(await statuses(member), [403, 403, 403, 403, 403, 403]);
    const refused = await createNetwork(member, 'refused');
    assert.deepEqual(refused.body['NeutronError'], { type: 'PolicyNotAuthorized', message: '(rule:create_network) is disallowed by policy', detail: '' });
    assert.equal((await createNetwork(admin, 'by admin')).status, 201);

    await fs.writeTextAtomic(policyFile, 'create_network: "rule:nowhere"\n');
    s.kill('SIGHUP');
    await eventually(() => logged.split('\n').filter((l) => l.includes('policy file not reloaded')).length >= 2, {
      timeoutMs: 10_000,
      what: 'both workers refusing the file',
    });
    assert.match(logged, /refers to rule:nowhere, which is not defined/);
    assert.deepEqual(await statuses(member), [403, 403, 403, 403, 403, 403], 'the last good policy is in force');

    const nets = await fetch(`${url}/v2.0/networks`, { headers: { 'x-auth-token': admin } });
    const names = ((await nets.json()) as { networks: Json[] }).networks.map((n) => n['name']);
    assert.equal(names.filter((n) => n === 'refused').length, 0, 'nothing was written for a refused request');
  });
});
