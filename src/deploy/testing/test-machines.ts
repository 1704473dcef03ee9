// Simulated machines for deployment tests: Debian containers booted with systemd by
// systemd-nspawn, each on an overlay of one cached root filesystem, with sshd, on a bridge in a
// fabric network namespace of their own (../shared/reference/deploy-testing.md has the facts
// this rests on). The machine's own namespace is never touched; everything is stopped by PID
// and removed by `remove()`, or at exit by the cleanup registry.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { realExec, realFs, type ChildHandle, type RunResult } from '../../lib/index.js';
import {
  killCgroup,
  makeTestNetns,
  trackCgroup,
  trackChildTree,
  trackMount,
  untrackCgroup,
  trackTempDir,
  untrackMount,
  untrackTempDir,
  type TestNetns,
} from '../../lib/testing.js';
import { ensureTestRootfs } from './test-rootfs.js';

export interface TestMachine {
  readonly name: string;
  readonly address: string;
  /** Runs a shell command on the machine over real ssh; the result whatever the exit status. */
  ssh(command: string, input?: string): Promise<RunResult>;
  /** The same, throwing with the output when the command fails; returns stdout. */
  must(command: string, input?: string): Promise<string>;
  /** `systemctl reboot` inside, then waits until sshd answers again with a new boot. */
  reboot(): Promise<void>;
}

export interface TestFabric {
  /** The network namespace holding the bridge; run deployers and ssh from inside it. */
  readonly netns: TestNetns;
  readonly machines: readonly TestMachine[];
  /** The private key every machine accepts for root (ssh -i). */
  readonly sshKey: string;
  /** ssh options that make a test's known-hosts handling quiet. */
  readonly sshOptions: readonly string[];
  /** The root filesystem the machines boot from (read-only lower layer): its dpkg status says what a bare machine has. */
  readonly rootfs: string;
  /** Boots one more machine on the same fabric. */
  addMachine(spec: MachineSpec): Promise<TestMachine>;
  remove(): Promise<void>;
}

export interface MachineSpec {
  readonly name: string;
  /** The last octet of its address on the fabric's /24. */
  readonly host: number;
}

const SUBNET = '198.18.0';
const BRIDGE = 'br0';
const BOOT_TIMEOUT_MS = 60_000;

interface Booted {
  readonly machine: TestMachine;
  readonly stop: () => Promise<void>;
}

/**
 * Builds (once per machine, cached) the root filesystem, makes a fabric namespace with a bridge
 * at 198.18.0.1/24, and boots one container per spec with address 198.18.0.<host>/24 and sshd
 * accepting a fresh key. Names are made unique per call.
 */
export async function startTestFabric(specs: readonly MachineSpec[], onProgress: (line: string) => void = () => {}): Promise<TestFabric> {
  const exec = realExec();
  const fs = realFs();
  const tag = randomBytes(3).toString('hex');
  const rootfs = await ensureTestRootfs(onProgress);
  const dir = await fs.makeTempDir('brindle-machines-');
  trackTempDir(dir);
  const netns = await makeTestNetns(`bdf${tag}`);
  const booted: Booted[] = [];
  const cgroups: string[] = [];
  const sshKey = join(dir, 'id_ed25519');
  const sshOptions = [
    '-i',
    sshKey,
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'LogLevel=ERROR',
    '-o',
    'ConnectTimeout=5',
  ];

  const remove = async (): Promise<void> => {
    await Promise.all(booted.map((b) => b.stop()));
    // Whatever is still in a machine's cgroup goes (a container whose nspawn was killed keeps
    // running), then the directories, depth first.
    for (const cg of cgroups.reverse()) {
      killCgroup(cg);
      untrackCgroup(cg);
    }
    await netns.remove();
    await fs.remove(dir);
    untrackTempDir(dir);
  };

  const boot = async (spec: MachineSpec): Promise<TestMachine> => {
    const name = `${spec.name}-${tag}`;
    const address = `${SUBNET}.${spec.host}`;
    const base = join(dir, spec.name);
    const upper = join(base, 'upper');
    const merged = join(base, 'merged');
    for (const d of [upper, join(base, 'work'), merged]) await fs.ensureDir(d);
    await seedMachine(upper, spec.name, address, `${sshKey}.pub`);
    const mount = await exec.run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${rootfs},upperdir=${upper},workdir=${join(base, 'work')}`, merged]);
    if (mount.code !== 0) throw new Error(`mount overlay for ${name}: ${mount.stderr.trim()}`);
    trackMount(merged);
    // Without a host systemd every container would share one cgroup: each gets its own.
    const groups = ['systemd', 'unified'].map((h) => `/sys/fs/cgroup/${h}/M-${name}`);
    for (const g of groups) {
      await fs.ensureDir(g);
      cgroups.push(g);
      trackCgroup(g);
    }
    // nspawn exits 133 on `systemctl reboot` inside: the loop boots it again, as a real reboot.
    const script = [
      'set -u',
      ...groups.map((g) => `echo $$ > ${g}/cgroup.procs`),
      'while :; do',
      `  nsenter --net=/run/netns/${netns.name} systemd-nspawn -q -b -D ${merged} --machine=${name} --register=no --keep-unit --network-bridge=${BRIDGE} --console=passive`,
      '  s=$?; [ $s -eq 133 ] || exit $s',
      'done',
    ].join('\n');
    const child = exec.spawn('bash', ['-c', script]);
    trackChildTree(child);
    child.stdin.end();
    const output = keepTail(child);
    const ssh = (command: string, input?: string): Promise<RunResult> => netns.run('ssh', [...sshOptions, `root@${address}`, command], input);
    const must = async (command: string, input?: string): Promise<string> => {
      const r = await ssh(command, input);
      if (r.code !== 0) throw new Error(`on ${spec.name}: ${command}: exit ${r.code}: ${(r.stderr + r.stdout).trim().slice(-2000)}`);
      return r.stdout;
    };
    const bootId = async (): Promise<string | undefined> => {
      const r = await ssh('cat /run/brindle-test-boot 2>/dev/null || (uuidgen 2>/dev/null || cat /proc/sys/kernel/random/uuid) | tee /run/brindle-test-boot');
      return r.code === 0 ? r.stdout.trim() : undefined;
    };
    const waitForSsh = async (notBoot?: string): Promise<void> => {
      const deadline = Date.now() + BOOT_TIMEOUT_MS;
      for (;;) {
        const id = await bootId();
        if (id !== undefined && id !== notBoot) return;
        if (Date.now() > deadline) throw new Error(`machine ${spec.name} (${address}): no ssh within ${BOOT_TIMEOUT_MS / 1000} s; nspawn said:\n${output()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const stop = async (): Promise<void> => {
      // SIGTERM to nspawn (the loop's child) powers the container off; the loop then ends with it.
      await exec.run('pkill', ['-TERM', '-P', String(child.pid)]);
      const killer = setTimeout(() => {
        void exec.run('pkill', ['-KILL', '-P', String(child.pid)]);
        child.kill('SIGKILL');
      }, 10_000);
      await child.exited;
      clearTimeout(killer);
      await exec.run('umount', ['-l', merged]);
      untrackMount(merged);
    };
    const machine: TestMachine = {
      name: spec.name,
      address,
      ssh,
      must,
      reboot: async () => {
        const before = await bootId();
        await ssh('systemctl reboot');
        await waitForSsh(before);
      },
    };
    booted.push({ machine, stop });
    await waitForSsh();
    onProgress(`machine ${spec.name} up at ${address}`);
    return machine;
  };

  try {
    await netns.must('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
    await netns.must('ip', ['addr', 'add', `${SUBNET}.1/24`, 'dev', BRIDGE]);
    await netns.must('ip', ['link', 'set', BRIDGE, 'up']);
    const keygen = await exec.run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `brindle-test-${tag}`, '-f', sshKey]);
    if (keygen.code !== 0) throw new Error(`ssh-keygen: ${keygen.stderr.trim()}`);
    const machines = await Promise.all(specs.map(boot));
    return { netns, machines, sshKey, sshOptions, rootfs, addMachine: boot, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** What makes one machine of the shared image its own: hostname, address, root's key. */
async function seedMachine(upper: string, hostname: string, address: string, publicKey: string): Promise<void> {
  const fs = realFs();
  await fs.ensureDir(join(upper, 'etc/systemd/network'));
  await fs.ensureDir(join(upper, 'root/.ssh'));
  await fs.writeTextAtomic(join(upper, 'etc/hostname'), `${hostname}\n`);
  await fs.writeTextAtomic(join(upper, 'etc/hosts'), `127.0.0.1 localhost\n${address} ${hostname}\n`);
  await fs.writeTextAtomic(
    join(upper, 'etc/systemd/network/80-container-host0.network'),
    `[Match]\nName=host0\n\n[Network]\nAddress=${address}/24\nGateway=${SUBNET}.1\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`,
  );
  await fs.writeTextAtomic(join(upper, 'root/.ssh/authorized_keys'), await fs.readText(publicKey));
  await realExec().run('chmod', ['700', join(upper, 'root/.ssh')]);
}

/** The last few KB of a child's output, for error messages. */
function keepTail(child: ChildHandle, max = 4000): () => string {
  let text = '';
  const add = (d: Buffer): void => {
    text = (text + d.toString('utf8')).slice(-max);
  };
  child.stdout.on('data', add);
  child.stderr.on('data', add);
  return () => text;
}
