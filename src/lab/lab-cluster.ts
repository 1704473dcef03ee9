import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, realClock, type ChildHandle, type Clock, type Exec, type Fs } from '../lib/index.js';
import { LabProcessError } from './errors.js';
import type { Lab } from './lab-topology.js';
import { NeutronClient } from './neutron-client.js';

/** The `brindle` command of this checkout (dist/src/lab/… → bin/brindle). */
export const BRINDLE_BIN = fileURLToPath(new URL('../../../bin/brindle', import.meta.url));

const OUTPUT_LINES = 2000;

/** The DNS server lab VMs are given by DHCP (the fabric's own address; lab VMs resolve nothing). */
export const LAB_DNS = '198.19.0.254';

export interface LabClusterOptions {
  readonly lab: Lab;
  readonly exec: Exec;
  readonly fs: Fs;
  readonly clock?: Clock;
  /** `embedded:PATH` or `etcd:URL`: agents run in the machine's namespace (with `--netns`), so 127.0.0.1 works. */
  readonly datastore: string;
  /** A directory for the (empty) config file the processes are pointed at. */
  readonly workDir: string;
  readonly logLevel?: string;
  /** Extra `brindle node` flags for every agent (e.g. `--refresh-interval 2s`). */
  readonly nodeArgs?: readonly string[];
  /** Called with each output line of each process (for `brindle lab up` to show them). */
  readonly onOutput?: (name: string, line: string) => void;
}

interface Proc {
  readonly child: ChildHandle;
  readonly output: string[];
  readonly healthUrl?: string;
}

/**
 * The processes that make a lab a cloud: one `brindle api` on 127.0.0.1, and one `brindle node`
 * per lab host, each programming its host's namespace (`--netns`) and known by the host's name.
 * All are real processes of this checkout's binary, recorded in the lab state and stopped by PID.
 */
export class LabCluster {
  readonly #o: LabClusterOptions;
  readonly #clock: Clock;
  readonly #procs = new Map<string, Proc>();
  #apiUrl = '';

  private constructor(o: LabClusterOptions) {
    this.#o = o;
    this.#clock = o.clock ?? realClock();
  }

  /** Starts the API and waits until it answers. */
  static async start(o: LabClusterOptions): Promise<LabCluster> {
    const c = new LabCluster(o);
    await o.fs.ensureDir(o.workDir);
    // dnsmasq drops root for nobody and must still reach its files below the work directory.
    await o.exec.run('chmod', ['a+x', o.workDir, dirname(o.workDir)]);
    await o.fs.writeTextAtomic(join(o.workDir, 'brindle.yaml'), '# Brindle lab: settings come from the command line\n');
    try {
      const port = await freePort();
      c.#apiUrl = `http://127.0.0.1:${port}`;
      c.#spawn('api', ['api', '--listen', `127.0.0.1:${port}`, '--listen-socket', c.apiSocket]);
      await c.#waitFor('api', `${c.#apiUrl}/v2.0/networks`, 20_000);
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  get apiUrl(): string {
    return this.#apiUrl;
  }

  /** The API's Unix socket: how services inside host namespaces (metadata) reach it. */
  get apiSocket(): string {
    return join(this.#o.workDir, 'api.sock');
  }

  /** A Neutron client for the lab's API. */
  client(projectId = 'lab-project'): NeutronClient {
    return new NeutronClient({ url: this.#apiUrl, projectId });
  }

  /** The last lines a process printed (for diagnostics when a test fails). */
  output(name: string): string {
    return (this.#procs.get(name)?.output ?? []).join('\n');
  }

  nodeHealthUrl(host: string): string | undefined {
    return this.#procs.get(`node/${host}`)?.healthUrl;
  }

  nodePid(host: string): number | undefined {
    return this.#procs.get(`node/${host}`)?.child.pid;
  }

  /** Where a host's BIRD keeps its files (config, control socket, pid file, log). */
  birdDir(host: string): string {
    return join(this.#o.workDir, `bird-${host}`);
  }

  /** The control socket of a host's BIRD (for `birdc -s`). */
  birdSocket(host: string): string {
    return join(this.birdDir(host), 'bird.ctl');
  }

  /** The BGP flags of a host's agent: its fabric addresses and its own BIRD directory. */
  #bgpArgs(host: string): string[] {
    const h = this.#o.lab.hostInfo(host);
    return ['--bgp-address', `${h.ip4}/24`, '--bgp-address6', `${h.ip6}/64`, '--bgp-run-dir', this.birdDir(host)];
  }

  /** Where a host's dnsmasq keeps its files (hosts, opts, leases, pid file, log). */
  dhcpDir(host: string): string {
    return join(this.#o.workDir, `dhcp-${host}`);
  }

  /**
   * Starts the agent of a lab host and waits until it reports ready (in sync and programmed).
   * The agent runs BGP too (its BIRD inside the host's namespace) unless `--no-bgp` is passed.
   */
  async startNode(host: string, extraArgs: readonly string[] = []): Promise<void> {
    const ns = this.#o.lab.hostInfo(host).netns;
    const port = await freePort();
    const healthUrl = `http://127.0.0.1:${port}`;
    const bgp = !extraArgs.includes('--no-bgp');
    // DHCP: the lab's VMs are told the fabric router's address as DNS server (nothing answers
    // there; lab VMs resolve no names), so no address of the machine's own leaks in.
    const dhcpArgs = ['--dhcp-run-dir', this.dhcpDir(host), '--dhcp-dns-servers', LAB_DNS];
    this.#spawn(
      `node/${host}`,
      [
        'node',
        '--hostname',
        host,
        '--netns',
        ns,
        '--health-listen',
        `127.0.0.1:${port}`,
        ...this.#bgpArgs(host),
        ...dhcpArgs,
        ...(this.#o.nodeArgs ?? []),
        ...extraArgs,
      ],
      healthUrl,
    );
    await this.#waitFor(`node/${host}`, `${healthUrl}/readiness`, 30_000);
    if (!this.#procs.has(`metadata/${host}`)) {
      // nova-api-metadata's place: on the host, at the agent's DNAT target (127.0.0.1:8775).
      this.#spawn(`metadata/${host}`, ['metadata', '--listen', '127.0.0.1:8775', '--neutron-socket', this.apiSocket], undefined, ns);
      await this.#waitForLine(`metadata/${host}`, /brindle metadata: serving/, 20_000);
    }
    if (bgp) {
      await this.waitForBird(host);
      await this.#o.lab.setHostBirdSocket(host, this.birdSocket(host));
    }
  }

  /**
   * Starts a dedicated route reflector on a lab host made with role `reflector`: `brindle node
   * --bgp-only` with a route-reflector cluster id, and waits until its BIRD answers.
   */
  async startReflector(host: string, clusterId: string, extraArgs: readonly string[] = []): Promise<void> {
    const ns = this.#o.lab.hostInfo(host).netns;
    this.#spawn(`node/${host}`, [
      'node',
      '--bgp-only',
      '--hostname',
      host,
      '--netns',
      ns,
      '--route-reflector-cluster-id',
      clusterId,
      ...this.#bgpArgs(host),
      ...extraArgs,
    ]);
    await this.waitForBird(host);
    await this.#o.lab.setHostBirdSocket(host, this.birdSocket(host));
  }

  /** Waits until the host's BIRD answers on its control socket. */
  async waitForBird(host: string, timeoutMs = 20_000): Promise<void> {
    const deadline = this.#clock.monotonic() + timeoutMs;
    for (;;) {
      const r = await this.#o.exec.run('birdc', ['-s', this.birdSocket(host), 'show', 'status']);
      if (r.code === 0 && /Router ID is/.test(r.stdout)) return;
      const p = this.#procs.get(`node/${host}`);
      if (this.#clock.monotonic() > deadline)
        throw new LabProcessError(`node/${host}`, `BIRD not answering after ${timeoutMs} ms: ${(p?.output ?? []).slice(-5).join(' | ')}`);
      await this.#clock.sleep(100);
    }
  }

  /** What a host's BIRD says (`birdc -s <socket> <command…>`), as text. */
  async birdc(host: string, ...command: string[]): Promise<string> {
    const r = await this.#o.exec.run('birdc', ['-s', this.birdSocket(host), ...command]);
    if (r.code !== 0) throw new LabProcessError(`BIRD of ${host}`, `birdc ${command.join(' ')} failed: ${r.stderr.trim() || r.stdout.trim()}`);
    return r.stdout;
  }

  /** Stops an agent: SIGTERM for a clean stop, SIGKILL to simulate a crash. */
  async stopNode(host: string, signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    await this.#stopProc(`node/${host}`, signal);
  }

  /** Stops every process (the lab's namespaces are the caller's to destroy). */
  async stop(): Promise<void> {
    for (const name of [...this.#procs.keys()]) await this.#stopProc(name, 'SIGTERM');
  }

  async #stopProc(name: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const p = this.#procs.get(name);
    if (p === undefined) return;
    p.child.kill(signal);
    let timer: { cancel(): void } | undefined;
    const timedOut = await Promise.race([
      p.child.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = this.#clock.setTimer(() => resolve(true), 10_000))),
    ]);
    timer?.cancel();
    if (timedOut) {
      p.child.kill('SIGKILL');
      await p.child.exited;
    }
    this.#procs.delete(name);
    await this.#o.lab.forgetProcess(p.child.pid);
  }

  #spawn(name: string, args: readonly string[], healthUrl?: string, netns?: string): void {
    if (this.#procs.has(name)) throw new LabProcessError(name, 'already running');
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      BRINDLE_CONFIG: join(this.#o.workDir, 'brindle.yaml'),
      BRINDLE_DATASTORE: this.#o.datastore,
      BRINDLE_LOG_LEVEL: this.#o.logLevel ?? 'warn',
      // The operator's (or the test run's) choice of dataplane reaches the lab's agents.
      ...(process.env['BRINDLE_DATAPLANE'] === undefined ? {} : { BRINDLE_DATAPLANE: process.env['BRINDLE_DATAPLANE'] }),
    };
    const child =
      netns === undefined
        ? this.#o.exec.spawn(process.execPath, [BRINDLE_BIN, ...args], { env })
        : this.#o.exec.spawn('ip', ['netns', 'exec', netns, process.execPath, BRINDLE_BIN, ...args], { env });
    child.stdin.end();
    const output: string[] = [];
    const take = (chunk: string): void => {
      for (const line of chunk.split('\n')) {
        if (line === '') continue;
        output.push(line);
        if (output.length > OUTPUT_LINES) output.shift();
        this.#o.onOutput?.(name, line);
      }
    };
    child.stdout.setEncoding('utf8').on('data', take);
    child.stderr.setEncoding('utf8').on('data', take);
    this.#procs.set(name, { child, output, ...(healthUrl === undefined ? {} : { healthUrl }) });
    this.#o.lab.recordProcess(name.split('/')[0] ?? name, name, child.pid).catch(() => {});
  }

  async #waitForLine(name: string, line: RegExp, timeoutMs: number): Promise<void> {
    const p = this.#procs.get(name);
    if (p === undefined) throw new LabProcessError(name, 'not started');
    const deadline = this.#clock.monotonic() + timeoutMs;
    let exited = false;
    void p.child.exited.then(() => (exited = true));
    while (!p.output.some((l) => line.test(l))) {
      if (exited) throw new LabProcessError(name, `exited before it was ready: ${p.output.slice(-5).join(' | ')}`);
      if (this.#clock.monotonic() > deadline) throw new LabProcessError(name, `not ready after ${timeoutMs} ms: ${p.output.slice(-5).join(' | ')}`);
      await this.#clock.sleep(50);
    }
  }

  async #waitFor(name: string, url: string, timeoutMs: number): Promise<void> {
    const p = this.#procs.get(name);
    if (p === undefined) throw new LabProcessError(name, 'not started');
    const deadline = this.#clock.monotonic() + timeoutMs;
    let exited = false;
    void p.child.exited.then(() => (exited = true));
    for (;;) {
      const r = await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
      if (r?.status === 200) return;
      if (exited) throw new LabProcessError(name, `exited before it was ready: ${p.output.slice(-5).join(' | ')}`);
      if (this.#clock.monotonic() > deadline) throw new LabProcessError(name, `not ready after ${timeoutMs} ms: ${p.output.slice(-5).join(' | ')}`);
      await this.#clock.sleep(50);
    }
  }
}
