import { join } from 'node:path';
import { describeError, type Clock, type Exec, type Fs, type Logger } from '../lib/index.js';
import { BirdControl } from './bird-control.js';
import { BirdConfigRejectedError, BirdStartError } from './errors.js';

export interface BirdDaemonOptions {
  /** Runs `bird` (bound to the host's namespace under `--netns`, so BIRD lives there). */
  readonly exec: Exec;
  readonly fs: Fs;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Holds bird.conf, the control socket, the pid file and the log. */
  readonly runDir: string;
  readonly birdBinary?: string;
}

/** What applying a configuration did. */
export type ApplyOutcome =
  { readonly result: 'unchanged' } | { readonly result: 'started' | 'reconfigured' } | { readonly result: 'rejected'; readonly error: string };

const START_WAIT_MS = 10_000;
/** A live BIRD that does not answer for this long is presumed wedged and restarted. */
const WEDGED_MS = 60_000;
/** Restarts back off from 1 s to this, when BIRD keeps dying soon after a start. */
const MAX_RESTART_DELAY_MS = 60_000;
/** A BIRD that stayed up this long resets the backoff. */
const STABLE_MS = 30_000;

function firstLines(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(0, 3)
    .join(' ');
}

/**
 * One BIRD process, owned through its files: `bird.conf`, the control socket `bird.ctl` and
 * the pid file `bird.pid` in the run directory. BIRD daemonizes, so it outlives a restart of
 * `brindle node` (which adopts it again through the socket) and keeps its sessions and routes.
 * A new configuration is written beside the old one, checked with `bird -p`, and only then
 * renamed into place and loaded with `configure`; a rejected one leaves the old one in force.
 */
export class BirdDaemon {
  readonly #o: BirdDaemonOptions;
  readonly #bin: string;
  #applied: string | undefined;
  #starts = 0;
  #lastStartAt: number | undefined;
  #restartDelayMs = 0;
  #silentSince: number | undefined;

  constructor(o: BirdDaemonOptions) {
    this.#o = o;
    this.#bin = o.birdBinary ?? 'bird';
  }

  get socketPath(): string {
    return join(this.#o.runDir, 'bird.ctl');
  }
  get configPath(): string {
    return join(this.#o.runDir, 'bird.conf');
  }
  get pidPath(): string {
    return join(this.#o.runDir, 'bird.pid');
  }
  get logPath(): string {
    return join(this.#o.runDir, 'bird.log');
  }
  /** How many times this process started BIRD (adopting a running one does not count). */
  get starts(): number {
    return this.#starts;
  }

  /** A connection to BIRD's control socket; the caller closes it. */
  connect(timeoutMs = 2_000): Promise<BirdControl> {
    return BirdControl.connect(this.socketPath, { timeoutMs });
  }

  /** True when BIRD answers on its socket. */
  async answers(): Promise<boolean> {
    try {
      const c = await this.connect(1_000);
      c.close();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The PID BIRD wrote, if that process still exists and is our BIRD: its command line names
   * our control socket (a stale pid file may point at a PID the kernel has given to another
   * process since, which must never be signalled).
   */
  async pid(): Promise<number | undefined> {
    if (!this.#o.fs.exists(this.pidPath)) return undefined;
    const pid = Number((await this.#o.fs.readText(this.pidPath).catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    const cmdline = await this.#o.fs.readText(`/proc/${pid}/cmdline`).catch(() => undefined);
    if (cmdline === undefined) return undefined;
    const args = cmdline.split('\0');
    return /(^|\/)bird$/.test(args[0] ?? '') && args.includes(this.socketPath) ? pid : undefined;
  }

  /**
   * Makes `config` the running configuration: unchanged text does nothing; a config `bird -p`
   * rejects is reported and the running one kept; otherwise it is put in place and BIRD is
   * reconfigured, or started if it is not running.
   */
  async apply(config: string): Promise<ApplyOutcome> {
    const running = await this.answers();
    if (!running && (await this.pid()) !== undefined) {
      // Alive but busy (or still starting): never start a second one beside it; retried later.
      throw new BirdStartError(`BIRD (pid ${String(await this.pid())}) is not answering on ${this.socketPath} yet`);
    }
    if (running && config === this.#applied) return { result: 'unchanged' };
    if (running && this.#applied === undefined && this.#o.fs.exists(this.configPath)) {
      // Adopting a BIRD left by an earlier agent: its file is what it runs.
      const current = await this.#o.fs.readText(this.configPath).catch(() => '');
      if (current === config) {
        this.#applied = config;
        return { result: 'unchanged' };
      }
    }
    await this.#o.fs.ensureDir(this.#o.runDir);
    const staged = `${this.configPath}.new`;
    await this.#o.fs.writeTextAtomic(staged, config);
    const check = await this.#o.exec.run(this.#bin, ['-p', '-c', staged]);
    if (check.code !== 0) {
      const error = new BirdConfigRejectedError(firstLines(`${check.stderr}\n${check.stdout}`) || `exit ${String(check.code)}`).message;
      return { result: 'rejected', error };
    }
    const previous = this.#o.fs.exists(this.configPath) ? await this.#o.fs.readText(this.configPath) : undefined;
    await this.#o.fs.writeTextAtomic(this.configPath, config);
    await this.#o.fs.remove(staged);
    if (!running) {
      await this.start();
      this.#applied = config;
      return { result: 'started' };
    }
    const c = await this.connect();
    try {
      const r = await c.configure();
      if (!r.ok) {
        // BIRD kept its running config: put its file back, so a restart runs what ran.
        if (previous !== undefined) await this.#o.fs.writeTextAtomic(this.configPath, previous);
        return { result: 'rejected', error: new BirdConfigRejectedError(r.message).message };
      }
    } finally {
      c.close();
    }
    this.#applied = config;
    return { result: 'reconfigured' };
  }

  /**
   * Starts BIRD on the configuration in place, in graceful-restart recovery (`-R`): peers that
   * kept our routes while it was down keep them until it has re-learned its own.
   */
  async start(): Promise<void> {
    const alive = await this.pid();
    if (alive !== undefined) throw new BirdStartError(`BIRD (pid ${alive}) is still running on ${this.socketPath}`);
    await this.#o.fs.remove(this.socketPath);
    const r = await this.#o.exec.run(this.#bin, ['-R', '-c', this.configPath, '-s', this.socketPath, '-P', this.pidPath]);
    if (r.code !== 0) throw new BirdStartError(firstLines(`${r.stderr}\n${r.stdout}`) || `exit ${String(r.code)}`);
    const deadline = this.#o.clock.monotonic() + START_WAIT_MS;
    while (!(await this.answers())) {
      if (this.#o.clock.monotonic() > deadline) throw new BirdStartError(`no answer on ${this.socketPath} after ${START_WAIT_MS} ms`);
      await this.#o.clock.sleep(50);
    }
    this.#starts++;
    this.#lastStartAt = this.#o.clock.monotonic();
    this.#silentSince = undefined;
    this.#o.logger.info({ socket: this.socketPath, pid: await this.pid() }, 'BIRD started');
  }

  /**
   * Keeps BIRD up. A BIRD that answers is left alone. One whose process is gone is started
   * again on the last good configuration — at once the first time, then backing off (1 s
   * doubling to 60 s) while it keeps dying within 30 s of a start. A live BIRD that does not
   * answer is given 60 s (it may be busy) before it is killed and restarted. Returns true when
   * it started BIRD.
   */
  async ensureRunning(): Promise<boolean> {
    const now = this.#o.clock.monotonic();
    if (await this.answers()) {
      this.#silentSince = undefined;
      if (this.#lastStartAt !== undefined && now - this.#lastStartAt > STABLE_MS) this.#restartDelayMs = 0;
      return false;
    }
    const pid = await this.pid();
    if (pid !== undefined) {
      this.#silentSince ??= now;
      if (now - this.#silentSince < WEDGED_MS) return false;
      this.#o.logger.error({ pid, socket: this.socketPath }, `BIRD has not answered for ${WEDGED_MS / 1000} s; killing and restarting it`);
      await this.#o.exec.run('kill', ['-KILL', String(pid)]);
      const deadline = now + 5_000;
      while ((await this.pid()) !== undefined && this.#o.clock.monotonic() < deadline) await this.#o.clock.sleep(50);
    }
    if (!this.#o.fs.exists(this.configPath)) return false;
    if (this.#lastStartAt !== undefined && now - this.#lastStartAt < this.#restartDelayMs) return false;
    this.#restartDelayMs =
      this.#lastStartAt !== undefined && now - this.#lastStartAt < STABLE_MS ? Math.min(MAX_RESTART_DELAY_MS, Math.max(1_000, this.#restartDelayMs * 2)) : 0;
    this.#o.logger.warn({ socket: this.socketPath, nextRestartDelayMs: this.#restartDelayMs }, 'BIRD is not running; starting it again');
    try {
      await this.start();
    } catch (err) {
      throw err instanceof BirdStartError ? err : new BirdStartError(describeError(err), err);
    }
    return true;
  }

  /** Stops BIRD by its PID (only when asked: an agent restart leaves BIRD running). */
  async stop(): Promise<void> {
    const pid = await this.pid();
    if (pid === undefined) return;
    await this.#o.exec.run('kill', ['-TERM', String(pid)]);
    const deadline = this.#o.clock.monotonic() + 5_000;
    while ((await this.pid()) !== undefined && this.#o.clock.monotonic() < deadline) await this.#o.clock.sleep(50);
    if ((await this.pid()) !== undefined) await this.#o.exec.run('kill', ['-KILL', String(pid)]);
  }
}
