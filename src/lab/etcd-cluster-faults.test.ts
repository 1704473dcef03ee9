// A real 3-member etcd cluster losing a member under load. Two `brindle api` processes and one
// `brindle node` run in a client namespace on the cluster's private network; the test drives
// the APIs through their Unix sockets. While ports are created 16 at a time (each retried on
// 409/503 as a client would), the leader is SIGKILLed and later restarted, then the new leader
// is cut off (every packet in and out of its namespace dropped) and later healed. Every request
// must be answered (201, or a 409/503 the client retries; never a 500), every create must
// succeed within its retries, every acknowledged port must be there with a distinct address and
// a WorkloadEndpoint, and the agent and the elected status reporter must carry on: a VM plugged
// afterwards gets its port ACTIVE.
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestEtcdCluster, type TestEtcdCluster } from '../datastore/testing/index.js';
import { realExec, realFs, type ChildHandle } from '../lib/index.js';
import { parseWorkloadEndpointName } from '../model/index.js';
import { eventually, makeTestNetns, trackChild, trackTempDir, untrackTempDir, type TestNetns } from '../lib/testing.js';
import { tapName } from './vif.js';

const BRINDLE = fileURLToPath(new URL('../../../bin/brindle', import.meta.url));
type Json = Record<string, unknown>;

interface Reply {
  readonly status: number;
  readonly body: Json;
}

/** One HTTP request over a Unix socket (the APIs listen in the client namespace). */
function call(socket: string, method: string, path: string, body?: unknown): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ socketPath: socket, method, path, headers: { 'content-type': 'application/json' }, timeout: 30_000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : (JSON.parse(text) as Json) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

interface CreateOutcome {
  readonly port: Json | undefined;
  /** Every status the API answered, retries included. */
  readonly statuses: number[];
}

describe('an etcd cluster losing a member under concurrent port creates', () => {
  let cluster: TestEtcdCluster;
  let host: TestNetns;
  let dir: string;
  const processes: ChildHandle[] = [];
  const apis: ChildHandle[] = [];
  const sockets: string[] = [];
  let networkId = '';
  const outcomes: CreateOutcome[] = [];

  function spawnInCluster(args: readonly string[]): ChildHandle {
    const env = { PATH: process.env['PATH'] ?? '', BRINDLE_CONFIG: join(dir, 'empty.yaml') };
    const child = realExec().spawn('ip', ['netns', 'exec', cluster.clientNetns.name, BRINDLE, ...args], { env });
    trackChild(child);
    processes.push(child);
    child.stdin.end();
    child.stdout.resume();
    child.stderr.resume();
    return child;
  }

  const datastoreArgs = (): string[] => [
    '--datastore',
    `etcd:${cluster.endpoints.join(',')}`,
    '--etcd-timeout',
    '2',
    '--etcd-keepalive',
    '1',
    '--log-level',
    'warn',
  ];

  before(async () => {
    dir = await realFs().makeTempDir('brindle-etcd-faults-');
    trackTempDir(dir);
    await realFs().writeTextAtomic(join(dir, 'empty.yaml'), '');
    cluster = await startTestEtcdCluster();
    host = await makeTestNetns('bec-h1');
    for (const i of [1, 2]) {
      const socket = join(dir, `api${i}.sock`);
      sockets.push(socket);
      apis.push(spawnInCluster(['api', ...datastoreArgs(), '--listen', `127.0.0.1:${9695 + i}`, '--listen-socket', socket, '--hostname', `api${i}`]));
    }
    for (const s of sockets)
      await eventually(async () => (await call(s, 'GET', '/').catch(() => undefined))?.status === 200, { timeoutMs: 30_000, what: `API on ${s}` });
    spawnInCluster([
      'node',
      ...datastoreArgs(),
      '--hostname',
      'h1',
      '--netns',
      host.name,
      '--no-bgp',
      '--no-dhcp',
      '--report-interval',
      '2s',
      '--report-ttl',
      '10s',
    ]);
    const first = sockets[0] ?? '';
    await eventually(async () => ((await call(first, 'GET', '/v2.0/agents')).body['agents'] as Json[]).some((a) => a['host'] === 'h1' && a['alive'] === true), {
      timeoutMs: 30_000,
      what: 'the agent on h1 alive',
    });
    const net = await call(first, 'POST', '/v2.0/networks', { network: { name: 'faults' } });
    networkId = String((net.body['network'] as Json)['id']);
    const sub = await call(first, 'POST', '/v2.0/subnets', { subnet: { network_id: networkId, ip_version: 4, cidr: '198.18.32.0/22' } });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
  });

  after(async () => {
    for (const p of processes) p.kill('SIGTERM');
    await Promise.all(processes.map((p) => p.exited));
    await cluster?.stop();
    await host?.remove();
    if (dir !== undefined) {
      await realFs().remove(dir);
      untrackTempDir(dir);
    }
  });

  /** The member an API process talks to now: the peer of its etcd connections (`ss` in the client namespace). */
  async function memberUsedBy(api: ChildHandle): Promise<number> {
    const out = await cluster.clientNetns.must('ss', ['-tnpH', 'state', 'established', 'dport', '=', ':2379']);
    const peers = out
      .split('\n')
      .filter((l) => l.includes(`pid=${api.pid},`))
      .map((l) => cluster.members.findIndex((m) => l.includes(` ${m.address}:2379`)))
      .filter((i) => i >= 0);
    const first = peers[0];
    if (first === undefined) throw new Error(`API process ${api.pid} has no etcd connection:\n${out}`);
    return first;
  }

  /**
   * Creates one bound port, retrying 409 and 503 (six retries, as the failing report's client
   * did), each once the other API process answers a read again (a fact, not a pause).
   */
  async function createPort(n: number): Promise<CreateOutcome> {
    const statuses: number[] = [];
    const body = { port: { network_id: networkId, name: `p${n}`, device_id: randomUUID(), device_owner: 'compute:nova', 'binding:host_id': 'h1' } };
    for (let attempt = 0; attempt <= 6; attempt++) {
      const r = await call(sockets[(n + attempt) % 2] ?? '', 'POST', '/v2.0/ports', body);
      statuses.push(r.status);
      if (r.status === 201) return { port: r.body['port'] as Json, statuses };
      if (r.status !== 409 && r.status !== 503) break;
      const other = sockets[(n + attempt + 1) % 2] ?? '';
      await eventually(async () => (await call(other, 'GET', `/v2.0/networks/${networkId}`).catch(() => undefined))?.status === 200, {
        timeoutMs: 30_000,
        what: 'the API answering again',
      });
    }
    return { port: undefined, statuses };
  }

  /** `count` creates, 16 at a time, running `at(done)` as they complete (the faults start mid-load). */
  async function load(count: number, at: (done: number) => void): Promise<CreateOutcome[]> {
    const results: CreateOutcome[] = [];
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const n = outcomes.length + next++;
        results.push(await createPort(n));
        at(++done);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    return results;
  }

  function expectAllCreated(results: readonly CreateOutcome[], t: TestContext): void {
    const statuses = results.flatMap((r) => r.statuses);
    const retried = statuses.filter((s) => s !== 201);
    t.diagnostic(
      `${results.length} creates, ${retried.length} answers retried (409: ${retried.filter((s) => s === 409).length}, 503: ${retried.filter((s) => s === 503).length})`,
    );
    assert.deepEqual(
      statuses.filter((s) => s !== 201 && s !== 409 && s !== 503),
      [],
      'only 201, 409 and 503 (never a 500)',
    );
    const failed = results.filter((r) => r.port === undefined);
    assert.deepEqual(
      failed.map((r) => r.statuses),
      [],
      'every create succeeded within six retries',
    );
  }

  // One scenario: the checks at the end are about the ports the fault steps created.
  it('survives a member killed and another cut off: every create answered, nothing lost, agents carry on', async (t: TestContext) => {
    await t.test('the member an API uses SIGKILLed and restarted under 200 creates', async (st) => {
      const victim = await memberUsedBy(apis[0] as ChildHandle);
      st.diagnostic(`killing ${cluster.members[victim]?.name ?? ''} (leader: ${cluster.members[await cluster.leader()]?.name ?? ''})`);
      const faults: Promise<void>[] = [];
      const results = await load(200, (done) => {
        if (done === 40) faults.push(cluster.kill(victim));
        if (done === 100) faults.push(Promise.all(faults).then(() => cluster.restart(victim)));
      });
      await Promise.all(faults);
      outcomes.push(...results);
      expectAllCreated(results, st);
    });

    await t.test('the member the other API uses cut off by dropped packets, then healed, under 200 creates', async (st) => {
      const victim = await memberUsedBy(apis[1] as ChildHandle);
      st.diagnostic(`cutting off ${cluster.members[victim]?.name ?? ''} (leader: ${cluster.members[await cluster.leader()]?.name ?? ''})`);
      const faults: Promise<void>[] = [];
      const results = await load(200, (done) => {
        if (done === 40) faults.push(cluster.partition(victim));
        if (done === 120) faults.push(Promise.all(faults).then(() => cluster.heal(victim)));
      });
      await Promise.all(faults);
      outcomes.push(...results);
      expectAllCreated(results, st);
    });

    await t.test('nothing acknowledged is lost: every port listed, each address once, each with a WorkloadEndpoint', async () => {
      const acknowledged = outcomes.map((o) => o.port).filter((p): p is Json => p !== undefined);
      assert.equal(acknowledged.length, 400);
      const listed = (await call(sockets[1] ?? '', 'GET', `/v2.0/ports?network_id=${networkId}`)).body['ports'] as Json[];
      const listedIds = new Set(listed.map((p) => p['id']));
      assert.deepEqual(
        acknowledged.filter((p) => !listedIds.has(p['id'])).map((p) => p['id']),
        [],
        'acknowledged ports all listed',
      );
      // Every address in the datastore once, orphans of lost replies included.
      const addresses = listed.flatMap((p) => (p['fixed_ips'] as Json[]).map((f) => f['ip_address']));
      assert.equal(new Set(addresses).size, addresses.length, 'no address handed out twice');
      // A WorkloadEndpoint write that failed after its port's commit is retried in the background.
      // Read with etcdctl (the test's own tool, not the code under test); a member still
      // settling after the heal may time it out, so a failed read is read again.
      let lastError = '';
      const missing = async (): Promise<unknown[] | undefined> => {
        const r = await cluster.clientNetns.run('etcdctl', [
          '--endpoints',
          cluster.endpoints.join(','),
          '--command-timeout=15s',
          'get',
          '--prefix',
          '--keys-only',
          '/calico/resources/v3/projectcalico.org/workloadendpoints/',
        ]);
        if (r.code !== 0) {
          lastError = r.stderr.trim().split('\n').pop() ?? '';
          return undefined;
        }
        const keys = r.stdout;
        const endpointPorts = new Set(keys.split('\n').map((key) => parseWorkloadEndpointName(key.split('/').pop() ?? '')?.endpoint));
        return acknowledged.filter((p) => !endpointPorts.has(String(p['id']))).map((p) => p['id']);
      };
      await eventually(async () => (await missing())?.length === 0, { timeoutMs: 60_000, what: 'a WorkloadEndpoint for every acknowledged port' }).catch(
        () => undefined,
      );
      const left = await missing();
      assert.ok(left !== undefined, `etcdctl could not read the WorkloadEndpoints: ${lastError}`);
      assert.deepEqual(left, [], 'a WorkloadEndpoint for every acknowledged port');
    });

    await t.test('the agent and the status reporter carry on: a VM plugged now gets its port ACTIVE', async () => {
      const r = await createPort(1_000);
      assert.ok(r.port !== undefined, JSON.stringify(r.statuses));
      const id = String(r.port['id']);
      // Plug the VM's tap as Nova would (its other end stays in the host: no VM needed to be up).
      await host.must('ip', ['link', 'add', tapName(id), 'type', 'veth', 'peer', 'name', 'vm-side']);
      await host.must('ip', ['link', 'set', 'vm-side', 'up']);
      await host.must('ip', ['link', 'set', tapName(id), 'up']);
      await eventually(async () => ((await call(sockets[0] ?? '', 'GET', `/v2.0/ports/${id}`)).body['port'] as Json)['status'] === 'ACTIVE', {
        timeoutMs: 30_000,
        what: 'the port ACTIVE',
      });
      const routes = await host.must('ip', ['route', 'show']);
      const ip = String(((r.port['fixed_ips'] as Json[])[0] ?? {})['ip_address']);
      assert.match(routes, new RegExp(`^${ip.replace(/\./g, '\\.')} dev ${tapName(id)}`, 'm'), 'the agent routed the VM');
    });
  });
});
