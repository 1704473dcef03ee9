import { join } from 'node:path';
import { freePort, realExec, realFs, type ChildHandle } from '../../lib/index.js';
import { eventually, trackChild, trackTempDir, untrackTempDir } from '../../lib/testing.js';

/** A real Keystone (Debian's, on sqlite, fernet tokens) started for a test: loopback, a free port, a temp dir. */
export interface TestKeystone {
  /** The identity v3 root, `http://127.0.0.1:PORT/v3`. */
  readonly url: string;
  readonly adminPassword: string;
  /** The last lines of its log (for a test's failure message). */
  logTail(): Promise<string>;
  /** A password-scoped token for a user of a project (both in the Default domain). */
  token(user: string, password: string, project: string): Promise<string>;
  /** Creates a project and a user in it with one role (`member`, `reader` or `admin`); returns their ids. */
  addUser(project: string, user: string, password: string, role: string): Promise<{ projectId: string; userId: string }>;
  /**
   * Puts a service with a public endpoint in the catalog (how the openstack CLI finds an API).
   * Do it before other writes: Debian's keystone on sqlite has failed later catalog writes with
   * "database is locked" (reference §6.2).
   */
  addEndpoint(type: string, name: string, url: string): Promise<void>;
  /** Revokes a token (DELETE /v3/auth/tokens). */
  revoke(token: string): Promise<void>;
  /** Stops the server by its PID (the data stays until `remove`). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  remove(): Promise<void>;
}

export const KEYSTONE_ADMIN_PASSWORD = 'brindle-test-admin';

async function run(dir: string, cmd: string, args: string[]): Promise<void> {
  const r = await realExec().run(cmd, args, { cwd: dir, env: { ...process.env, OS_KEYSTONE_CONFIG_DIR: dir } });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.slice(-1500)}`);
}

/** Brings up Keystone as the Neutron API reference's §6.2 does (db_sync, fernet and credential keys, bootstrap). */
export async function startTestKeystone(): Promise<TestKeystone> {
  const fs = realFs();
  const dir = await fs.makeTempDir('brindle-keystone-');
  trackTempDir(dir);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/v3`;
  for (const d of ['fernet', 'cred', 'log']) await fs.ensureDir(join(dir, d));
  await fs.writeTextAtomic(
    join(dir, 'keystone.conf'),
    [
      '[DEFAULT]',
      `log_file = ${join(dir, 'log', 'keystone.log')}`,
      '[database]',
      `connection = sqlite:///${join(dir, 'keystone.sqlite')}`,
      '[fernet_tokens]',
      `key_repository = ${join(dir, 'fernet')}`,
      '[fernet_receipts]',
      `key_repository = ${join(dir, 'fernet')}`,
      '[credential]',
      `key_repository = ${join(dir, 'cred')}`,
      '[token]',
      'provider = fernet',
      '',
    ].join('\n'),
  );
  const manage = (...args: string[]): Promise<void> => run(dir, 'keystone-manage', ['--config-file', join(dir, 'keystone.conf'), ...args]);
  await manage('db_sync');
  await manage('fernet_setup', '--keystone-user', 'root', '--keystone-group', 'root');
  await manage('credential_setup', '--keystone-user', 'root', '--keystone-group', 'root');
  await manage(
    'bootstrap',
    '--bootstrap-password',
    KEYSTONE_ADMIN_PASSWORD,
    '--bootstrap-admin-url',
    `${url}/`,
    '--bootstrap-internal-url',
    `${url}/`,
    '--bootstrap-public-url',
    `${url}/`,
    '--bootstrap-region-id',
    'RegionOne',
  );

  let child: ChildHandle | undefined;
  /** The server's own output (wsgiref prints a request's traceback there, not in the log file). */
  let errTail = '';
  const start = async (): Promise<void> => {
    const c = realExec().spawn('keystone-wsgi-public', ['--port', String(port), '--host', '127.0.0.1'], {
      cwd: dir,
      env: { ...process.env, OS_KEYSTONE_CONFIG_DIR: dir },
    });
    child = c;
    trackChild(c);
    c.stdin.end();
    c.stdout.resume();
    c.stderr.on('data', (d: Buffer) => (errTail = (errTail + d.toString()).slice(-4000)));
    await eventually(async () => (await fetch(url).catch(() => undefined))?.status === 200, { timeoutMs: 30_000, what: 'keystone answering' });
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (c === undefined) return;
    c.kill('SIGTERM');
    const killer = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await c.exited;
    clearTimeout(killer);
  };

  const token = async (user: string, password: string, project: string): Promise<string> => {
    const r = await fetch(`${url}/auth/tokens?nocatalog`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } },
          scope: { project: { name: project, domain: { name: 'Default' } } },
        },
      }),
    });
    const t = r.headers.get('x-subject-token');
    if (r.status !== 201 || t === null) throw new Error(`keystone login of ${user} in ${project}: HTTP ${r.status} ${await r.text()}`);
    return t;
  };
  const admin = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const t = await token('admin', KEYSTONE_ADMIN_PASSWORD, 'admin');
    const r = await fetch(`${url}${path}`, {
      method,
      headers: { 'x-auth-token': t, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (r.status >= 300) throw new Error(`keystone ${method} ${path}: HTTP ${r.status} ${await r.text()}`);
    return r.status === 204 ? {} : ((await r.json()) as Record<string, unknown>);
  };
  const idOf = (x: Record<string, unknown>, key: string): string => ((x[key] as Record<string, unknown>)['id'] as string) ?? '';

  await start().catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return {
    url,
    adminPassword: KEYSTONE_ADMIN_PASSWORD,
    logTail: async () => `${(await fs.readText(join(dir, 'log', 'keystone.log')).catch(() => '')).slice(-1500)}\n${errTail}`,
    token,
    async addUser(project, user, password, role) {
      const projectId = idOf(await admin('POST', '/projects', { project: { name: project, domain_id: 'default' } }), 'project');
      const userId = idOf(await admin('POST', '/users', { user: { name: user, password, domain_id: 'default', default_project_id: projectId } }), 'user');
      const roles = (await admin('GET', `/roles?name=${encodeURIComponent(role)}`))['roles'] as { id: string }[];
      const roleId = roles[0]?.id;
      if (roleId === undefined) throw new Error(`keystone has no role ${role}`);
      await admin('PUT', `/projects/${projectId}/users/${userId}/roles/${roleId}`);
      return { projectId, userId };
    },
    async addEndpoint(type, name, endpointUrl) {
      const serviceId = idOf(await admin('POST', '/services', { service: { type, name } }), 'service');
      await admin('POST', '/endpoints', { endpoint: { service_id: serviceId, interface: 'public', region_id: 'RegionOne', url: endpointUrl } });
    },
    async revoke(t) {
      const a = await token('admin', KEYSTONE_ADMIN_PASSWORD, 'admin');
      const r = await fetch(`${url}/auth/tokens`, { method: 'DELETE', headers: { 'x-auth-token': a, 'x-subject-token': t } });
      if (r.status !== 204) throw new Error(`keystone revoke: HTTP ${r.status}`);
    },
    stop,
    start,
    async remove() {
      await stop();
      await fs.remove(dir);
      untrackTempDir(dir);
    },
  };
}
