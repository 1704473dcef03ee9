// What the agent benchmark makes on the machine, and how it goes away again: network namespaces
// (all named `bba<tag>-<random>`), the processes it starts (agents, iperf3), /etc/netns
// directories and temp directories. Every one is registered before it is made, so the normal
// path (`World.destroy`) and the last-resort exit handler (second Ctrl-C, an uncaught error)
// both remove it. Processes are killed by PID: the ones we started, and then whatever still runs
// inside one of our namespaces (the agent's `ip monitor` child, for instance), found with
// `ip netns pids`. Nothing here touches the machine's own namespace.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { realExec, realFs, type ChildHandle, type RunResult } from '../../src/lib/index.js';
import { progress, sleep } from '../datastore/workload.js';

const NETNS_ETC = '/etc/netns';
/** Every namespace this benchmark makes starts with this. */
export const NETNS_PREFIX = 'bba';
/** The address every host namespace has of its own (see `World.hostNetns`). */
export const HOST_ADDRESS = '198.19.255.1/32';

/** A namespace the benchmark made. */
export class Ns {
  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  /** Runs a command inside; the result whatever its exit status. */
  run(command: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
    return realExec().run('ip', ['netns', 'exec', this.name, command, ...args], { timeoutMs: 120_000, ...options });
  }

  /** Runs a command inside; throws with stderr if it fails; returns stdout. */
  async must(command: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.run(command, args, options);
    if (r.code !== 0)
      throw new Error(`${command} ${args.join(' ').slice(0, 200)} (in ${this.name}) exited ${r.code ?? r.signal}: ${r.stderr.trim().slice(0, 2000)}`);
    return r.stdout;
  }

  /** `ip -batch -` inside, `lines` on stdin (`-force`: keep going, report failures). */
  async ipBatch(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    await this.must('ip', ['-batch', '-'], { input: `${lines.join('\n')}\n` });
  }
}

function pidsIn(ns: string): number[] {
  try {
    return execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [];
  }
}

function kill(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

const alive = (pid: number): boolean => kill(pid, 0);

/** Everything the benchmark made; `destroy()` removes it. */
export class World {
  readonly #namespaces = new Set<string>();
  readonly #children = new Map<number, ChildHandle>();
  readonly #dirs = new Set<string>();
  readonly #exitHandler = (): void => this.#destroySync();

  constructor() {
    process.on('exit', this.#exitHandler);
  }

  /** A new namespace `bba<tag>-<6 hex>` with loopback up and an empty resolv.conf of its own. */
  async netns(tag: string): Promise<Ns> {
    const name = `${NETNS_PREFIX}${tag}-${randomBytes(3).toString('hex')}`;
    this.#namespaces.add(name);
    const fs = realFs();
    await fs.ensureDir(join(NETNS_ETC, name));
    await fs.writeTextAtomic(join(NETNS_ETC, name, 'resolv.conf'), '# brindle bench/agent: no DNS here\noptions timeout:1 attempts:1\n');
    const r = await realExec().run('ip', ['netns', 'add', name]);
    if (r.code !== 0) throw new Error(`ip netns add ${name}: ${r.stderr.trim()}`);
    const ns = new Ns(name);
    await ns.must('ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * A namespace that stands for a compute host: as on a real one, the host has an IPv4 address of
   * its own (here 198.19.255.1/32 on `lo`, outside the scenario's addresses). Without one, the
   * kernel looks for a source address for every new route by walking all 10,000 interfaces
   * (`inet_select_addr`): 5,000 routes took 3.3 s of kernel time instead of 0.1 s, for the agent
   * and the kernel tools alike, which no real host pays.
   */
  async hostNetns(tag: string): Promise<Ns> {
    const ns = await this.netns(tag);
    await ns.must('ip', ['addr', 'add', HOST_ADDRESS, 'dev', 'lo']);
    return ns;
  }

  /** Registers a process we started, so it is killed (by PID) at the end whatever happens. */
  track(child: ChildHandle): ChildHandle {
    if (child.pid > 0) {
      this.#children.set(child.pid, child);
      void child.exited.then(() => this.#children.delete(child.pid));
    }
    return child;
  }

  async tempDir(prefix: string): Promise<string> {
    const dir = await realFs().makeTempDir(prefix);
    this.#dirs.add(dir);
    return dir;
  }

  /**
   * Stops our processes (SIGTERM, SIGKILL after 10 s), then anything left inside our namespaces,
   * then deletes the namespaces, their /etc/netns directories and the temp directories.
   */
  async destroy(): Promise<void> {
    const children = [...this.#children.values()];
    for (const c of children) c.kill('SIGTERM');
    const deadline = Date.now() + 10_000;
    while (children.some((c) => alive(c.pid)) && Date.now() < deadline) await sleep(50);
    for (const c of children)
      if (alive(c.pid)) {
        progress('cleanup', `pid ${c.pid} did not stop within 10 s of SIGTERM: SIGKILL`);
        c.kill('SIGKILL');
      }
    for (const ns of this.#namespaces) {
      let left = pidsIn(ns);
      for (const pid of left) kill(pid, 'SIGTERM');
      for (let i = 0; i < 40 && left.length > 0; i++) {
        await sleep(50);
        left = pidsIn(ns).filter(alive);
      }
      for (const pid of left) kill(pid, 'SIGKILL');
      const r = await realExec().run('ip', ['netns', 'delete', ns]);
      if (r.code !== 0 && !/No such file/.test(r.stderr)) progress('cleanup', `ip netns delete ${ns}: ${r.stderr.trim()}`);
      await realFs().remove(join(NETNS_ETC, ns));
      this.#namespaces.delete(ns);
    }
    for (const d of this.#dirs) {
      await realFs().remove(d);
      this.#dirs.delete(d);
    }
    process.off('exit', this.#exitHandler);
  }

  /** The exit-time version: synchronous, SIGKILL at once. */
  #destroySync(): void {
    for (const c of this.#children.values()) c.kill('SIGKILL');
    this.#children.clear();
    for (const ns of this.#namespaces) {
      for (const pid of pidsIn(ns)) kill(pid, 'SIGKILL');
      try {
        execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
      rmSync(join(NETNS_ETC, ns), { recursive: true, force: true });
    }
    this.#namespaces.clear();
    for (const d of this.#dirs) rmSync(d, { recursive: true, force: true });
    this.#dirs.clear();
  }
}
