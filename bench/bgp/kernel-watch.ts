// What the BGP benchmark watches in a namespace: the kernel's route changes as they happen
// (`ip -ts monitor route`, each line stamped by ip with the wall-clock time it read the netlink
// message), the size of the main table (a poller process reading /proc/net/fib_triestat), the
// number of `proto bird` routes, and a fast ping whose first echo reply is stamped by ping itself
// (`-D`). Every process is spawned through `ip netns exec <ns>`, so
// nothing here touches the machine's own namespace, and registered with the World so it is
// killed by PID at the end.
import { fileURLToPath } from 'node:url';
import { realExec, type ChildHandle, type Exec, type RunOptions, type RunResult, type SpawnOptions } from '../../src/lib/index.js';
import { checkStop, sleep } from '../datastore/workload.js';
import type { World } from '../agent/world.js';

/** Wall-clock milliseconds since the epoch, sub-millisecond (the clock ping -D and ip -ts use). */
export const wallNow = (): number => performance.timeOrigin + performance.now();

/** An Exec whose commands all run inside `netns` (what `brindle node --netns` does for BIRD). */
export function inNetns(netns: string): Exec {
  const exec = realExec();
  const wrap = (command: string, args: readonly string[]): string[] => ['netns', 'exec', netns, command, ...args];
  return {
    spawn: (command: string, args: readonly string[], options?: SpawnOptions): ChildHandle => exec.spawn('ip', wrap(command, args), options),
    run: (command: string, args: readonly string[], options?: RunOptions): Promise<RunResult> => exec.run('ip', wrap(command, args), options),
  };
}

/** One line of `ip -ts monitor route`. */
export interface RouteEvent {
  /** Wall-clock ms of ip's timestamp. */
  readonly at: number;
  readonly deleted: boolean;
  /** As ip prints it: `198.18.1.2` for a /32, `198.18.0.0/24` otherwise. */
  readonly dst: string;
  /** The rest of the line (`via … dev … proto bird …`). */
  readonly rest: string;
}

// `[2026-12-06T03:40:57.119504] Deleted 198.18.3.4 dev tapx scope link metric 1024`; the time
// is local time without a zone, as ip prints it.
const LINE =
  /^\[(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})\] (Deleted )?(?:(?:unicast|blackhole|local|broadcast|multicast|unreachable|prohibit) )?(\S+)(.*)$/;

export function parseRouteEvent(line: string): RouteEvent | undefined {
  const m = LINE.exec(line);
  if (m === null) return undefined;
  const n = (i: number): number => Number(m[i]);
  const at = new Date(n(1), n(2) - 1, n(3), n(4), n(5), n(6)).getTime() + n(7) / 1000;
  return { at, deleted: m[8] !== undefined, dst: m[9] ?? '', rest: (m[10] ?? '').trim() };
}

/** `ip -ts monitor route` in a namespace; listeners see every event. */
export class RouteMonitor {
  readonly #listeners = new Set<(e: RouteEvent) => void>();
  readonly #child: ChildHandle;
  /** Lines ip printed that were not route events (e.g. "netlink receive error … No buffer space"). */
  readonly oddLines: string[] = [];

  private constructor(child: ChildHandle) {
    this.#child = child;
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      partial += d;
      let nl = partial.indexOf('\n');
      while (nl >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        const e = parseRouteEvent(line);
        if (e !== undefined) for (const l of this.#listeners) l(e);
        else if (line.trim() !== '' && this.oddLines.length < 20) this.oddLines.push(line.slice(0, 200));
        nl = partial.indexOf('\n');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (this.oddLines.length < 20) this.oddLines.push(`stderr: ${d.trim().slice(0, 200)}`);
    });
  }

  /**
   * Starts the monitor and returns once it is known to listen: a blackhole route of
   * `probeDst` (a /32 no one else uses) is added and deleted in the namespace until the monitor
   * reports it.
   */
  static async start(world: World, netns: string, probeDst: string): Promise<RouteMonitor> {
    const child = world.track(realExec().spawn('ip', ['netns', 'exec', netns, 'ip', '-ts', 'monitor', 'route']));
    child.stdin.end();
    const mon = new RouteMonitor(child);
    const exec = inNetns(netns);
    for (let i = 0; i < 50; i++) {
      checkStop();
      const seen = mon.next((e) => e.dst === probeDst && !e.deleted, 200);
      await exec.run('ip', ['route', 'replace', 'blackhole', `${probeDst}/32`, 'proto', 'static']);
      const ok = (await seen) !== undefined;
      await exec.run('ip', ['route', 'del', 'blackhole', `${probeDst}/32`, 'proto', 'static']);
      if (ok) return mon;
    }
    throw new Error(`ip monitor route in ${netns} reported nothing in 10 s: ${mon.oddLines.join(' | ')}`);
  }

  on(listener: (e: RouteEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The next event matching `pred` within `timeoutMs`, or undefined. */
  next(pred: (e: RouteEvent) => boolean, timeoutMs: number): Promise<RouteEvent | undefined> {
    return new Promise((resolve) => {
      const off = this.on((e) => {
        if (!pred(e)) return;
        off();
        clearTimeout(timer);
        resolve(e);
      });
      const timer = setTimeout(() => {
        off();
        resolve(undefined);
      }, timeoutMs);
      timer.unref();
    });
  }

  stop(): void {
    this.#child.kill('SIGTERM');
  }
}

/** How many IPv4 routes with `proto bird` the namespace's main table holds (one `ip route show`). */
export async function countBirdRoutes(netns: string): Promise<number> {
  const r = await inNetns(netns).run('ip', ['-4', 'route', 'show', 'table', 'main', 'proto', 'bird']);
  if (r.code !== 0) throw new Error(`ip route show proto bird in ${netns}: ${r.stderr.trim()}`);
  let n = 0;
  for (let i = r.stdout.indexOf('\n'); i >= 0; i = r.stdout.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * `ping -n -D -i <interval>` from a namespace towards `ip`, running until stopped. `firstReply`
 * resolves with ping's own timestamp (wall-clock ms) of the first echo reply from `ip`.
 */
export class Pinger {
  readonly #child: ChildHandle;
  readonly #started: Promise<void>;
  readonly firstReply: Promise<number>;
  #output = '';

  constructor(world: World, netns: string, ip: string, intervalSeconds: number) {
    // stdbuf -oL: ping's stdout is a pipe, so without it the header waits in ping's buffer
    // until the first reply.
    this.#child = world.track(realExec().spawn('ip', ['netns', 'exec', netns, 'stdbuf', '-oL', 'ping', '-n', '-D', '-i', String(intervalSeconds), ip]));
    this.#child.stdin.end();
    let partial = '';
    let started = (): void => {};
    let replied = (_at: number): void => {};
    this.#started = new Promise((r) => (started = r));
    this.firstReply = new Promise((r) => (replied = r));
    const reply = new RegExp(String.raw`^\[(\d+\.\d+)\] \d+ bytes from ${ip.replaceAll('.', '\\.')}: `);
    this.#child.stdout.setEncoding('utf8').on('data', (d: string) => {
      partial += d;
      if (this.#output.length < 4000) this.#output += d;
      let nl = partial.indexOf('\n');
      while (nl >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        if (line.startsWith('PING ')) started();
        const m = reply.exec(line);
        if (m !== null) replied(Number(m[1]) * 1000);
        nl = partial.indexOf('\n');
      }
    });
    this.#child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (this.#output.length < 4000) this.#output += d;
    });
  }

  /** Resolves once ping has printed its header (its socket is open and it is sending). */
  async ready(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const ok = await Promise.race([this.#started.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)))]);
    clearTimeout(timer);
    if (!ok) throw new Error(`ping did not start within ${timeoutMs} ms: ${this.#output.slice(0, 500)}`);
  }

  get output(): string {
    return this.#output;
  }

  async stop(): Promise<void> {
    this.#child.kill('SIGTERM');
    await Promise.race([this.#child.exited, sleep(2_000)]);
    this.#child.kill('SIGKILL');
  }
}

/** What the fib poller saw when a condition was first met. */
export interface FibSeen {
  /** Wall-clock ms when the read that met it started. */
  readonly at: number;
  readonly count: number;
  readonly polls: number;
}

/**
 * `fib-poll-main.js` in a namespace: the number of prefixes in its IPv4 main table, read from
 * /proc/net/fib_triestat every 2 ms by one long-lived process (no fork or route dump per poll).
 */
export class FibPoller {
  readonly #child: ChildHandle;
  readonly #pending = new Map<string, (s: FibSeen) => void>();
  #next = 0;
  #tail = '';

  constructor(world: World, netns: string, everyMs: number) {
    const script = fileURLToPath(new URL('./fib-poll-main.js', import.meta.url));
    const env = { ...process.env, BENCH_FIB_POLL_MS: String(everyMs) };
    this.#child = world.track(realExec().spawn('ip', ['netns', 'exec', netns, process.execPath, script], { env }));
    let partial = '';
    this.#child.stdout.setEncoding('utf8').on('data', (d: string) => {
      partial += d;
      let nl = partial.indexOf('\n');
      while (nl >= 0) {
        const [id, at, count, polls] = partial.slice(0, nl).split(' ');
        partial = partial.slice(nl + 1);
        const done = this.#pending.get(id ?? '');
        if (done !== undefined) {
          this.#pending.delete(id ?? '');
          done({ at: Number(at), count: Number(count), polls: Number(polls) });
        }
        nl = partial.indexOf('\n');
      }
    });
    this.#child.stderr.setEncoding('utf8').on('data', (d: string) => (this.#tail = (this.#tail + d).slice(-2000)));
  }

  #ask(op: string, n: number): Promise<FibSeen> {
    const id = String(this.#next++);
    const seen = new Promise<FibSeen>((resolve) => this.#pending.set(id, resolve));
    this.#child.stdin.write(`${id} ${op} ${n}\n`);
    return seen;
  }

  /** The count now (also proves the poller runs). */
  async now(timeoutMs = 10_000): Promise<FibSeen> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.#ask('now', 0), new Promise<undefined>((res) => (timer = setTimeout(() => res(undefined), timeoutMs)))]);
    clearTimeout(timer);
    if (r === undefined) throw new Error(`the fib poller did not answer within ${timeoutMs} ms: ${this.#tail}`);
    return r;
  }

  /**
   * Arms a wait: resolves once the count is >= / <= / != n. Requests are handled in order, so
   * once a later \`now()\` has answered, this one is being polled.
   */
  when(op: 'ge' | 'le' | 'ne', n: number): Promise<FibSeen> {
    return this.#ask(op, n);
  }

  stop(): void {
    this.#child.stdin.end();
  }
}
