import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { realExec, realFs, type ChildHandle } from '../../lib/index.js';
import { makeTestNetns, trackChild, trackTempDir, untrackTempDir, type TestNetns } from '../../lib/testing.js';
import { ETCD_READY, waitForOutput } from './etcd-server.js';

/** One member of a test cluster, in a network namespace of its own. */
export interface EtcdClusterMember {
  readonly name: string;
  readonly netns: TestNetns;
  readonly address: string;
  readonly clientUrl: string;
  /** etcd's PID (-1 while it is stopped). */
  readonly pid: number;
}

/**
 * A real etcd cluster on a private network: a fabric namespace with a bridge, one namespace per
 * member and one for clients, all on 198.18.250.0/24. Nothing touches the machine's namespace,
 * so clients (API servers, agents) run inside `clientNetns` (`ip netns exec`).
 */
export interface TestEtcdCluster {
  readonly members: readonly EtcdClusterMember[];
  readonly clientNetns: TestNetns;
  /** The members' client URLs, as `--datastore etcd:` takes them. */
  readonly endpoints: readonly string[];
  /** SIGKILL a member by its PID (its data stays, for `restart`). */
  kill(index: number): Promise<void>;
  restart(index: number): Promise<void>;
  /** Drops every packet in and out of a member's namespace (nftables there); `heal` undoes it. */
  partition(index: number): Promise<void>;
  heal(index: number): Promise<void>;
  /** The index of the member that is leader now, asked of the members that answer. */
  leader(): Promise<number>;
  /** Stops every member by PID and removes the namespaces and data. */
  stop(): Promise<void>;
}

const SUBNET = '198.18.250';
const PARTITION_TABLE = 'brindle_test_partition';

export async function startTestEtcdCluster(options: { size?: number } = {}): Promise<TestEtcdCluster> {
  const size = options.size ?? 3;
  const exec = realExec();
  const fs = realFs();
  const made: TestNetns[] = [];
  const dataDir = await fs.makeTempDir('brindle-etcd-cluster-');
  trackTempDir(dataDir);
  const children: (ChildHandle | undefined)[] = [];
  const stopMember = async (i: number, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const c = children[i];
    if (c === undefined) return;
    children[i] = undefined;
    c.kill(signal);
    const killer = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await c.exited;
    clearTimeout(killer);
  };
  const teardown = async (): Promise<void> => {
    await Promise.all(children.map((_, i) => stopMember(i, 'SIGTERM')));
    for (const ns of made.reverse()) await ns.remove();
    await fs.remove(dataDir);
    untrackTempDir(dataDir);
  };
  try {
    const fabric = await makeTestNetns('bec-fab');
    made.push(fabric);
    await fabric.must('ip', ['link', 'add', 'br0', 'type', 'bridge']);
    await fabric.must('ip', ['link', 'set', 'br0', 'up']);
    const plug = async (ns: TestNetns, port: string, address: string): Promise<void> => {
      await fabric.must('ip', ['link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.name]);
      await fabric.must('ip', ['link', 'set', port, 'master', 'br0', 'up']);
      await ns.must('ip', ['addr', 'add', `${address}/24`, 'dev', 'eth0']);
      await ns.must('ip', ['link', 'set', 'eth0', 'up']);
    };
    const clientNetns = await makeTestNetns('bec-cli');
    made.push(clientNetns);
    await plug(clientNetns, 'client', `${SUBNET}.100`);
    const token = `brindle-test-${randomBytes(4).toString('hex')}`;
    const members = await Promise.all(
      Array.from({ length: size }, async (_, i) => {
        const ns = await makeTestNetns(`bec-m${i + 1}`);
        made.push(ns);
        const address = `${SUBNET}.${i + 1}`;
        await plug(ns, `m${i + 1}`, address);
        return { name: `m${i + 1}`, netns: ns, address, clientUrl: `http://${address}:2379` };
      }),
    );
    const initialCluster = members.map((m) => `${m.name}=http://${m.address}:2380`).join(',');
    const launch = async (i: number): Promise<void> => {
      const m = members[i];
      if (m === undefined) throw new Error(`no member ${i}`);
      const args = [
        '--name',
        m.name,
        '--data-dir',
        join(dataDir, m.name),
        '--listen-client-urls',
        m.clientUrl,
        '--advertise-client-urls',
        m.clientUrl,
        '--listen-peer-urls',
        `http://${m.address}:2380`,
        '--initial-advertise-peer-urls',
        `http://${m.address}:2380`,
        '--initial-cluster',
        initialCluster,
        '--initial-cluster-state',
        'new',
        '--initial-cluster-token',
        token,
        '--logger',
        'zap',
        '--log-level',
        'info',
      ];
      // `ip netns exec` execs etcd, so the PID is etcd's own.
      const c = exec.spawn('ip', ['netns', 'exec', m.netns.name, 'etcd', ...args], { env: { ...process.env, ETCD_UNSUPPORTED_ARCH: '' } });
      children[i] = c;
      trackChild(c);
      c.stdin.end();
      await waitForOutput(c, ETCD_READY, 30_000);
    };
    await Promise.all(members.map((_, i) => launch(i)));
    const endpoints = members.map((m) => m.clientUrl);
    const cluster: TestEtcdCluster = {
      members: members.map((m, i) => ({
        ...m,
        get pid() {
          return children[i]?.pid ?? -1;
        },
      })),
      clientNetns,
      endpoints,
      kill: (i) => stopMember(i, 'SIGKILL'),
      restart: (i) => launch(i),
      partition: async (i) => {
        const ns = members[i]?.netns;
        if (ns === undefined) throw new Error(`no member ${i}`);
        await ns.must(
          'nft',
          ['-f', '-'],
          [
            `table inet ${PARTITION_TABLE} {`,
            '  chain in { type filter hook input priority -300; policy drop; iif "lo" accept; }',
            '  chain out { type filter hook output priority -300; policy drop; oif "lo" accept; }',
            '}',
            '',
          ].join('\n'),
        );
      },
      heal: async (i) => {
        await members[i]?.netns.must('nft', ['delete', 'table', 'inet', PARTITION_TABLE]);
      },
      leader: async () => {
        const r = await clientNetns.run('etcdctl', ['--endpoints', endpoints.join(','), '--command-timeout=2s', 'endpoint', 'status', '-w', 'json']);
        // Member ids are 64-bit: quote them before JSON.parse rounds them.
        const statuses = JSON.parse(r.stdout.replace(/:\s*(\d{15,})/g, ':"$1"') || '[]') as {
          Endpoint: string;
          Status: { header: { member_id: string }; leader: string };
        }[];
        const leader = statuses.find((s) => s.Status.header.member_id === s.Status.leader);
        const index = leader === undefined ? -1 : endpoints.indexOf(leader.Endpoint);
        if (index < 0) throw new Error(`no leader among the members that answered: ${r.stdout} ${r.stderr}`);
        return index;
      },
      stop: teardown,
    };
    return cluster;
  } catch (err) {
    await teardown();
    throw err;
  }
}
