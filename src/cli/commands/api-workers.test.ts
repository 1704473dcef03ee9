// `brindle api --workers 2`: the real command, two worker processes sharing one port on an
// embedded datastore. Both serve, only worker 0 runs the background work, a killed worker is
// started again while the other keeps serving, and SIGTERM to the primary stops them all.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, realExec, realFs, type ChildHandle } from '../../lib/index.js';
import { eventually, trackChild, trackTempDir, untrackTempDir } from '../../lib/testing.js';
import { WORKER_INDEX_ENV } from './api-workers.js';

const BRINDLE = fileURLToPath(new URL('../../../../bin/brindle', import.meta.url));
type Json = Record<string, unknown>;

/** The PIDs whose parent is `pid` (from /proc). */
async function childrenOf(pid: number): Promise<number[]> {
  const r = await realExec().run('ps', ['--ppid', String(pid), '-o', 'pid=']);
  return r.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => n > 0);
}

/** Which processes hold established TCP connections on `port` (server side), from `ss`. */
async function socketOwners(port: number): Promise<Set<number>> {
  const r = await realExec().run('ss', ['-tnpH', 'state', 'established', 'sport', '=', `:${port}`]);
  return new Set([...r.stdout.matchAll(/pid=(\d+),/g)].map((m) => Number(m[1])));
}

describe('brindle api --workers 2', () => {
  let dir: string;
  let primary: ChildHandle;
  /** The processes' log lines (JSON, info and up). */
  let logged = '';
  let port: number;
  let agent = new Agent({ keepAlive: true, maxSockets: 8 });

  function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path, agent, timeout: 5_000, headers: { 'content-type': 'application/json' } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : (JSON.parse(text) as Json) }));
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 5 s`)));
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  before(async () => {
    dir = await realFs().makeTempDir('brindle-api-workers-');
    trackTempDir(dir);
    await realFs().writeTextAtomic(join(dir, 'empty.yaml'), '');
    port = await freePort();
    const env = { PATH: process.env['PATH'] ?? '', BRINDLE_CONFIG: join(dir, 'empty.yaml') };
    primary = realExec().spawn(
      BRINDLE,
      ['api', '--workers', '2', '--datastore', `embedded:${join(dir, 'ds')}`, '--listen', `127.0.0.1:${port}`, '--log-level', 'info'],
      { env },
    );
    trackChild(primary);
    primary.stdin.end();
    primary.stdout.resume();
    primary.stderr.on('data', (d: Buffer) => (logged += d.toString()));
    // Both workers listening: the primary hands connections only to workers that listen.
    await eventually(() => logged.split('\n').filter((l) => l.includes('"Neutron API listening"')).length >= 2, {
      timeoutMs: 20_000,
      what: 'both workers listening',
    });
    await eventually(async () => (await call('GET', '/').catch(() => undefined))?.status === 200, { timeoutMs: 20_000, what: 'the API up' });
  });

  after(async () => {
    agent.destroy();
    if (primary !== undefined && primary.pid !== undefined) {
      const workers = await childrenOf(primary.pid);
      primary.kill('SIGTERM');
      await primary.exited;
      for (const w of workers) {
        try {
          process.kill(w, 'SIGKILL');
        } catch {
          // gone, as it should be
        }
      }
    }
    await realFs().remove(dir);
    untrackTempDir(dir);
  });

  // One scenario: the last step stops the primary the others use.
  it('serves from two workers, restarts a killed one, stops on SIGTERM', async (t: TestContext) => {
    await t.test('runs two workers that both serve the port; 100 concurrent creates all succeed', async () => {
      const workers = await childrenOf(primary.pid ?? 0);
      assert.equal(workers.length, 2);
      const net = (await call('POST', '/v2.0/networks', { network: { name: 'w' } })).body['network'] as Json;
      assert.equal((await call('POST', '/v2.0/subnets', { subnet: { network_id: net['id'], ip_version: 4, cidr: '198.18.60.0/24' } })).status, 201);
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => call('POST', '/v2.0/ports', { port: { network_id: net['id'], name: `w${i}` } })));
      assert.deepEqual([...new Set(results.map((r) => r.status))], [201]);
      const ips = results.map((r) => ((r.body['port'] as Json)['fixed_ips'] as Json[])[0]?.['ip_address']);
      assert.equal(new Set(ips).size, 100);
      // The primary hands connections round-robin: the 8 kept-alive client sockets are spread.
      const owners = await socketOwners(port);
      assert.deepEqual([...owners].sort(), [...workers].sort(), 'both workers hold connections');
    });

    await t.test('the elected background work (status, resync, compaction) runs in worker 0', async () => {
      const workers = await childrenOf(primary.pid ?? 0);
      const env0 = await Promise.all(workers.map(async (w) => ({ w, env: await realFs().readText(`/proc/${w}/environ`) })));
      const zero = env0.find((e) => e.env.split('\0').includes(`${WORKER_INDEX_ENV}=0`))?.w;
      assert.ok(zero !== undefined);
      const masters = (): number[] =>
        logged
          .split('\n')
          .filter((l) => l.includes('"became master"'))
          .map((l) => (JSON.parse(l) as { pid: number }).pid);
      await eventually(() => masters().length > 0, { what: 'a master' });
      assert.deepEqual(masters(), [zero], 'worker 0 alone took part in the election');
    });

    await t.test('a SIGKILLed worker is started again while the other keeps serving; SIGTERM stops them all', async () => {
      const before = await childrenOf(primary.pid ?? 0);
      const victim = before[0] ?? 0;
      // Connections kept alive to the victim die with it (a client sees a reset): start afresh.
      agent.destroy();
      agent = new Agent({ keepAlive: false });
      process.kill(victim, 'SIGKILL');
      // Requests keep being answered meanwhile; as any client, one retry for a connection the
      // primary handed to the dying worker before it knew.
      for (let i = 0; i < 10; i++) assert.equal((await call('GET', '/v2.0/networks').catch(() => call('GET', '/v2.0/networks'))).status, 200);
      await eventually(
        async () => {
          const now = await childrenOf(primary.pid ?? 0);
          return now.length === 2 && !now.includes(victim);
        },
        { timeoutMs: 15_000, what: 'a new worker in place of the killed one' },
      );
      const workers = await childrenOf(primary.pid ?? 0);
      agent.destroy();
      primary.kill('SIGTERM');
      const status = await primary.exited;
      assert.equal(status.code, 0);
      for (const w of workers) assert.throws(() => process.kill(w, 0), /ESRCH/, `worker ${w} stopped`);
    });
  });
});
