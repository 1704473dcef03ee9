import { describeError, type Clock, type Exec, type Fs, type Logger } from '../lib/index.js';
import { parseCidr } from '../model/index.js';
import { dnsmasqArgsKey } from './dnsmasq-args-key.js';
import { dnsmasqPaths, type DnsmasqPaths } from './dnsmasq-paths.js';
import { DhcpGatewayError, DnsmasqReloadError, DnsmasqStartError } from './errors.js';
import type { RenderedDnsmasq } from './render-dnsmasq.js';

export interface DnsmasqDaemonOptions {
  /** Runs `dnsmasq`, `ip`, `sysctl` and `kill` (bound to the host's namespace under `--netns`). */
  readonly exec: Exec;
  readonly fs: Fs;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Holds the hosts, opts, leases, pid and log files; the renderer's `paths.dir`. */
  readonly runDir: string;
  /** The interface holding the gateway addresses (the renderer's `gatewayIface`), `ns-dhcp`. */
  readonly gatewayIface: string;
  /** The other end of its veth pair, `ns-dhcp-peer` unless given (at most 15 characters). */
  readonly gatewayPeerIface?: string;
  readonly dnsmasqBinary?: string;
}

/** What applying a rendered configuration did. */
export type DnsmasqApplyResult = 'unchanged' | 'started' | 'reloaded' | 'restarted';

const START_WAIT_MS = 5_000;
const STOP_WAIT_MS = 5_000;
/** Restarts back off from 1 s to this while dnsmasq keeps dying soon after a start. */
const MAX_RESTART_DELAY_MS = 60_000;
const STABLE_MS = 30_000;

interface IpAddrJson {
  readonly addr_info?: readonly { readonly local?: string; readonly prefixlen?: number; readonly scope?: string }[];
}

/**
 * The one dnsmasq of a compute host, owned through its files in the run directory (see
 * DESIGN.md). dnsmasq daemonizes and outlives `brindle node`; a new agent adopts it by its pid
 * file, validated through `/proc/<pid>/cmdline`. New hosts/opts files are loaded with SIGHUP
 * (leases and PID kept); only a changed command line (`argsKey`) restarts it.
 */
export class DnsmasqDaemon {
  readonly #o: DnsmasqDaemonOptions;
  readonly #bin: string;
  readonly #paths: DnsmasqPaths;
  readonly #peer: string;
  /** The files as this agent last had dnsmasq load them (undefined until then). */
  #loaded: { hosts: string; opts: string } | undefined;
  #lastArgs: readonly string[] | undefined;
  #gatewayKey: string | undefined;
  #starts = 0;
  #lastStartAt: number | undefined;
  #restartDelayMs = 0;

  constructor(o: DnsmasqDaemonOptions) {
    this.#o = o;
    this.#bin = o.dnsmasqBinary ?? 'dnsmasq';
    this.#paths = dnsmasqPaths(o.runDir);
    this.#peer = o.gatewayPeerIface ?? `${o.gatewayIface}-peer`.slice(0, 15);
  }

  get paths(): DnsmasqPaths {
    return this.#paths;
  }
  /** How many times this object started dnsmasq (adopting a running one does not count). */
  get starts(): number {
    return this.#starts;
  }

  /** The argv of a live process whose pid file is ours, if it is our dnsmasq. */
  async #running(): Promise<{ pid: number; args: string[] } | undefined> {
    if (!this.#o.fs.exists(this.#paths.pid)) return undefined;
    const pid = Number((await this.#o.fs.readText(this.#paths.pid).catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const cmdline = await this.#o.fs.readText(`/proc/${pid}/cmdline`).catch(() => undefined);
    if (cmdline === undefined || cmdline === '') return undefined;
    const argv = cmdline.split('\0');
    if (argv.at(-1) === '') argv.pop();
    if (!/(^|\/)dnsmasq$/.test(argv[0] ?? '') || !argv.includes(`--pid-file=${this.#paths.pid}`)) return undefined;
    return { pid, args: argv.slice(1) };
  }

  /**
   * dnsmasq's PID, if the pid file names a live process that is our dnsmasq (its command line
   * carries our `--pid-file`): a stale file naming some other process never gets it signalled.
   */
  async pid(): Promise<number | undefined> {
    return (await this.#running())?.pid;
  }

  /**
   * Makes `rendered` what dnsmasq serves: the gateway interface gets exactly the gateway
   * addresses, the files are replaced atomically, then dnsmasq is started (not running),
   * restarted (its command line differs), sent SIGHUP (only the files differ) or left alone.
   */
  async apply(rendered: RenderedDnsmasq): Promise<DnsmasqApplyResult> {
    if (rendered.paths.dir !== this.#o.runDir) throw new DnsmasqStartError(`rendered for ${rendered.paths.dir}, but this daemon runs in ${this.#o.runDir}`);
    // The gateway interface is set up once per set of addresses (a VM coming or going changes
    // only the files: one SIGHUP, no `ip` commands); a restart of dnsmasq checks it again.
    const gatewayKey = [...rendered.gatewayAddresses].sort().join(',');
    if (this.#gatewayKey !== gatewayKey) {
      await this.ensureGateway(rendered.gatewayAddresses);
      this.#gatewayKey = gatewayKey;
    }
    await this.#o.fs.ensureDir(this.#o.runDir);
    const { hosts, opts } = rendered.files;
    if ((await this.#read(this.#paths.hosts)) !== hosts) await this.#o.fs.writeTextAtomic(this.#paths.hosts, hosts);
    if ((await this.#read(this.#paths.opts)) !== opts) await this.#o.fs.writeTextAtomic(this.#paths.opts, opts);
    this.#lastArgs = rendered.args;
    const running = await this.#running();
    if (running === undefined) {
      await this.#start(rendered.args);
      this.#loaded = { hosts, opts };
      return 'started';
    }
    if (dnsmasqArgsKey(running.args) !== rendered.argsKey) {
      this.#o.logger.info({ pid: running.pid }, 'dnsmasq command line changed (subnets, domain or lease time); restarting it');
      await this.#stopPid(running.pid);
      await this.#start(rendered.args);
      this.#loaded = { hosts, opts };
      return 'restarted';
    }
    // An adopted dnsmasq may not have loaded what is on disk: reload it once.
    if (this.#loaded?.hosts === hosts && this.#loaded.opts === opts) return 'unchanged';
    const hup = await this.#o.exec.run('kill', ['-HUP', String(running.pid)]);
    if (hup.code !== 0) throw new DnsmasqReloadError(running.pid, hup.stderr.trim() || `kill exit ${String(hup.code)}`);
    this.#loaded = { hosts, opts };
    return 'reloaded';
  }

  async #read(path: string): Promise<string | undefined> {
    return this.#o.fs.exists(path) ? this.#o.fs.readText(path).catch(() => undefined) : undefined;
  }

  async #ip(args: readonly string[]): Promise<string> {
    const r = await this.#o.exec.run('ip', args);
    if (r.code !== 0) throw new DhcpGatewayError(this.#o.gatewayIface, `ip ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /**
   * The gateway interface: one end of a veth pair (this kernel may lack `dummy`), both ends
   * up, IPv6 off on the peer end (it would hear dnsmasq's own RAs), holding exactly
   * `addresses`, each added with `noprefixroute` so no connected route competes with the
   * per-VM /32 and /128 routes (as networking-calico removes it from its dummy).
   */
  async ensureGateway(addresses: readonly string[]): Promise<void> {
    const gw = this.#o.gatewayIface;
    const show = await this.#o.exec.run('ip', ['-j', 'addr', 'show', 'dev', gw]);
    if (show.code !== 0) {
      await this.#ip(['link', 'add', gw, 'type', 'veth', 'peer', 'name', this.#peer]);
      this.#o.logger.info({ iface: gw, peer: this.#peer }, 'created the DHCP gateway interface');
    }
    await this.#o.exec.run('sysctl', ['-qw', `net.ipv6.conf.${this.#peer}.disable_ipv6=1`]);
    await this.#ip(['link', 'set', this.#peer, 'up']);
    await this.#ip(['link', 'set', gw, 'up']);
    let parsed: IpAddrJson[];
    try {
      parsed = JSON.parse(await this.#ip(['-j', 'addr', 'show', 'dev', gw])) as IpAddrJson[];
    } catch (err) {
      throw new DhcpGatewayError(gw, `unreadable ip -j addr output: ${describeError(err)}`, err);
    }
    const have = new Set<string>();
    for (const a of parsed[0]?.addr_info ?? []) {
      if (a.scope !== 'global' || a.local === undefined || a.prefixlen === undefined) continue;
      have.add(`${a.local}/${a.prefixlen}`);
    }
    const want = new Set(
      addresses.map((a) => {
        const c = parseCidr(a);
        if (c === undefined) throw new DhcpGatewayError(gw, `invalid address ${JSON.stringify(a)}`);
        return `${c.address}/${c.prefixLength}`;
      }),
    );
    for (const a of have) if (!want.has(a)) await this.#ip(['addr', 'del', a, 'dev', gw]);
    for (const a of want) {
      if (have.has(a)) continue;
      await this.#ip(['addr', 'add', a, 'dev', gw, 'noprefixroute', ...(a.includes(':') ? ['nodad'] : [])]);
    }
  }

  async #start(args: readonly string[]): Promise<void> {
    this.#gatewayKey = undefined;
    const alive = await this.pid();
    if (alive !== undefined) throw new DnsmasqStartError(`dnsmasq (pid ${alive}) is still running with ${this.#paths.pid}`);
    // dnsmasq drops root once started and re-reads its files on SIGHUP as `nobody`.
    const chmod = await this.#o.exec.run('chmod', ['0755', this.#o.runDir]);
    if (chmod.code !== 0) throw new DnsmasqStartError(`chmod 0755 ${this.#o.runDir}: ${chmod.stderr.trim()}`);
    const r = await this.#o.exec.run(this.#bin, args);
    if (r.code !== 0) throw new DnsmasqStartError(r.stderr.trim().split('\n')[0] ?? `exit ${String(r.code)}`);
    const deadline = this.#o.clock.monotonic() + START_WAIT_MS;
    let pid = await this.pid();
    while (pid === undefined) {
      if (this.#o.clock.monotonic() > deadline) throw new DnsmasqStartError(`no live dnsmasq named by ${this.#paths.pid} after ${START_WAIT_MS} ms`);
      await this.#o.clock.sleep(20);
      pid = await this.pid();
    }
    this.#starts++;
    this.#lastStartAt = this.#o.clock.monotonic();
    this.#o.logger.info({ pid, dir: this.#o.runDir }, 'dnsmasq started');
  }

  /**
   * Keeps dnsmasq up: one that is gone is started again on the last applied command line (or,
   * after an agent restart, not at all until the first `apply`) — at once the first time, then
   * backing off (1 s doubling to 60 s) while it keeps dying within 30 s of a start. Returns true
   * when it started dnsmasq.
   */
  async ensureRunning(): Promise<boolean> {
    if ((await this.pid()) !== undefined) {
      if (this.#lastStartAt !== undefined && this.#o.clock.monotonic() - this.#lastStartAt > STABLE_MS) this.#restartDelayMs = 0;
      return false;
    }
    const args = this.#lastArgs;
    if (args === undefined) return false;
    const now = this.#o.clock.monotonic();
    if (this.#lastStartAt !== undefined && now - this.#lastStartAt < this.#restartDelayMs) return false;
    this.#restartDelayMs =
      this.#lastStartAt !== undefined && now - this.#lastStartAt < STABLE_MS ? Math.min(MAX_RESTART_DELAY_MS, Math.max(1_000, this.#restartDelayMs * 2)) : 0;
    this.#o.logger.warn({ dir: this.#o.runDir, nextRestartDelayMs: this.#restartDelayMs }, 'dnsmasq is not running; starting it again');
    try {
      await this.#start(args);
    } catch (err) {
      throw err instanceof DnsmasqStartError ? err : new DnsmasqStartError(describeError(err), err);
    }
    // It read the files at start: they are what it serves.
    const hosts = await this.#read(this.#paths.hosts);
    const opts = await this.#read(this.#paths.opts);
    this.#loaded = hosts !== undefined && opts !== undefined ? { hosts, opts } : undefined;
    return true;
  }

  async #stopPid(pid: number): Promise<void> {
    await this.#o.exec.run('kill', ['-TERM', String(pid)]);
    const deadline = this.#o.clock.monotonic() + STOP_WAIT_MS;
    while ((await this.pid()) === pid && this.#o.clock.monotonic() < deadline) await this.#o.clock.sleep(20);
    if ((await this.pid()) === pid) await this.#o.exec.run('kill', ['-KILL', String(pid)]);
    this.#loaded = undefined;
  }

  /**
   * Stops dnsmasq by its validated PID (only when asked, e.g. `--no-dhcp`: an agent restart
   * leaves it serving). The gateway interface is left as it is.
   */
  async stop(): Promise<void> {
    const pid = await this.pid();
    if (pid !== undefined) await this.#stopPid(pid);
  }

  /** Stops dnsmasq and deletes the gateway interface (both ends of the pair). */
  async remove(): Promise<void> {
    await this.stop();
    await this.#o.exec.run('ip', ['link', 'del', this.#o.gatewayIface]);
  }
}
