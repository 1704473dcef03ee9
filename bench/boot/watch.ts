// What the boot benchmark watches: links appearing in a host's namespace (`ip -ts -o monitor
// link`, stamped by ip with the wall-clock time it read the netlink message: t0 is the tap's
// creation), dnsmasq's log (each line stamped when this process read it, inotify-driven), the
// VM's DHCP client (a udhcpc hook that stamps each event with `date +%s.%N`), and the metadata
// poller inside the VM. Every process is spawned through `ip netns exec <ns>` and registered
// with the World, so it is killed by PID at the end.
import { closeSync, openSync, readSync, statSync, watch, type FSWatcher } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { realExec, type ChildHandle } from '../../src/lib/index.js';
import { UDHCPC_SCRIPT } from '../../src/lab/index.js';
import { checkStop, sleep } from '../datastore/workload.js';
import type { World } from '../agent/world.js';
import { inNetns, wallNow } from '../bgp/kernel-watch.js';

// `[2026-12-06T03:40:57.119504] 45: tapabcdef01234@if46: <BROADCAST,…> mtu 1500 …` (local time).
const LINK_LINE = /^\[(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{6})\] (Deleted )?\d+: ([^:@\s]+)[@:]/;

/** `ip -ts -o monitor link` in a namespace: when each interface name was first seen (created). */
export class LinkMonitor {
  readonly #child: ChildHandle;
  readonly #firstSeen = new Map<string, number>();
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
        const m = LINK_LINE.exec(line);
        if (m !== null && m[8] === undefined) {
          const n = (i: number): number => Number(m[i]);
          const at = new Date(n(1), n(2) - 1, n(3), n(4), n(5), n(6)).getTime() + n(7) / 1000;
          const name = m[9] ?? '';
          if (!this.#firstSeen.has(name)) this.#firstSeen.set(name, at);
        } else if (m === null && line.trim() !== '' && this.oddLines.length < 20) this.oddLines.push(line.slice(0, 200));
        nl = partial.indexOf('\n');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (this.oddLines.length < 20) this.oddLines.push(`stderr: ${d.trim().slice(0, 200)}`);
    });
  }

  /** Starts the monitor; returns once a probe veth made in the namespace has been reported. */
  static async start(world: World, netns: string): Promise<LinkMonitor> {
    const child = world.track(realExec().spawn('ip', ['netns', 'exec', netns, 'ip', '-ts', '-o', 'monitor', 'link']));
    child.stdin.end();
    const mon = new LinkMonitor(child);
    const exec = inNetns(netns);
    for (let i = 0; i < 50; i++) {
      checkStop();
      const name = `bmprobe${i}`;
      await exec.run('ip', ['link', 'add', name, 'type', 'veth', 'peer', 'name', `bmpeer${i}`]);
      await sleep(100);
      await exec.run('ip', ['link', 'delete', name]);
      if (mon.firstSeen(name) !== undefined) return mon;
    }
    throw new Error(`ip monitor link in ${netns} reported nothing in 5 s: ${mon.oddLines.join(' | ')}`);
  }

  /** Wall-clock ms when the interface was first reported, if it was. */
  firstSeen(name: string): number | undefined {
    return this.#firstSeen.get(name);
  }

  /** Waits up to `timeoutMs` for the interface to be reported. */
  async waitFor(name: string, timeoutMs: number): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const at = this.#firstSeen.get(name);
      if (at !== undefined) return at;
      await sleep(5);
    }
    return this.#firstSeen.get(name);
  }

  stop(): void {
    this.#child.kill('SIGTERM');
  }
}

/** One line of a log file, stamped when this process read it (wall-clock ms). */
export interface LogLine {
  readonly at: number;
  readonly line: string;
}

/**
 * Follows a growing log file (dnsmasq's `--log-facility` file): reads what was appended on every
 * inotify event (and every 50 ms in case one was missed), and stamps each line when read.
 * dnsmasq writes each line as it handles the packet or signal, so the stamp is within about a
 * millisecond of the event (its own timestamps have one-second resolution).
 */
export class LogTail {
  readonly #path: string;
  readonly lines: LogLine[] = [];
  #offset: number;
  #partial = '';
  #watcher: FSWatcher | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(path: string) {
    this.#path = path;
    this.#offset = statSync(path).size;
    this.#watcher = watch(path, () => this.#read());
    this.#timer = setInterval(() => this.#read(), 50);
  }

  #read(): void {
    const at = wallNow();
    let fd: number;
    try {
      fd = openSync(this.#path, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.#offset);
        if (n <= 0) break;
        this.#offset += n;
        this.#partial += buf.subarray(0, n).toString('utf8');
      }
    } finally {
      closeSync(fd);
    }
    let nl = this.#partial.indexOf('\n');
    while (nl >= 0) {
      this.lines.push({ at, line: this.#partial.slice(0, nl) });
      this.#partial = this.#partial.slice(nl + 1);
      nl = this.#partial.indexOf('\n');
    }
  }

  /** Reads what is there now (call before looking at `lines`). */
  flush(): void {
    this.#read();
  }

  /** Lines read at or after `since` (wall-clock ms) that match. */
  since(since: number, match: (line: string) => boolean = () => true): LogLine[] {
    return this.lines.filter((l) => l.at >= since && match(l.line));
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
  }
}

/**
 * The lab's udhcpc hook (`src/lab/dhcp-client.ts`, unchanged) with two lines added: each event
 * appends `<event> start <date +%s.%N>` to `$LEASE_DIR/$VM_NS.times` before anything else and
 * `<event> end <…>` after configuring eth0. The lab writes its hook only if none is there, so
 * the benchmark puts this one in the lab's lease directory first.
 */
export function timedUdhcpcScript(): string {
  const lines = UDHCPC_SCRIPT.split('\n');
  const exitAt = lines.lastIndexOf('exit 0');
  if (lines[0] !== '#!/bin/sh' || exitAt < 0) throw new Error("the lab's udhcpc hook changed shape: update bench/boot/watch.ts");
  // The event is kept aside: the hook's `set -- $staticroutes` replaces $1.
  const stamp = (what: string): string => `echo "$bench_event ${what} $(date +%s.%N)" >> "$LEASE_DIR/$VM_NS.times"`;
  return [
    lines[0],
    "# bench/boot: the lab's hook, with each event's start and end stamped",
    'bench_event="$1"',
    stamp('start'),
    ...lines.slice(1, exitAt),
    stamp('end'),
    ...lines.slice(exitAt),
  ].join('\n');
}

/** The hook's stamps: event -> { start, end } wall-clock ms (the first of each event). */
export function parseTimes(text: string): Record<string, { start?: number; end?: number }> {
  const out: Record<string, { start?: number; end?: number }> = {};
  for (const line of text.split('\n')) {
    const [event, what, secs] = line.trim().split(' ');
    if (event === undefined || secs === undefined || (what !== 'start' && what !== 'end')) continue;
    const e = (out[event] ??= {});
    if (e[what] === undefined) e[what] = Number(secs) * 1000;
  }
  return out;
}

/** What the in-VM metadata poller reported. */
export interface MetadataSeen {
  readonly startedAt?: number;
  readonly firstAnswerAt?: number;
  readonly firstStatus?: number;
  readonly okAt?: number;
  readonly attempts?: number;
  readonly timeout?: string;
}

/** `metadata-poll-main.js` inside a VM's namespace, started as soon as the namespace exists. */
export class MetadataPoller {
  readonly #child: ChildHandle;
  readonly done: Promise<MetadataSeen>;
  #tail = '';

  constructor(world: World, netns: string, uuid: string, everyMs: number, timeoutMs: number) {
    const script = fileURLToPath(new URL('./metadata-poll-main.js', import.meta.url));
    this.#child = world.track(
      realExec().spawn('ip', ['netns', 'exec', netns, 'nice', '-n', '19', process.execPath, script, uuid, String(everyMs), String(timeoutMs)]),
    );
    this.#child.stdin.end();
    const seen: { -readonly [K in keyof MetadataSeen]: MetadataSeen[K] } = {};
    let partial = '';
    this.#child.stdout.setEncoding('utf8').on('data', (d: string) => {
      partial += d;
      let nl = partial.indexOf('\n');
      while (nl >= 0) {
        const [kind, at, a, b] = partial.slice(0, nl).split(' ');
        partial = partial.slice(nl + 1);
        if (kind === 'start') seen.startedAt = Number(at);
        if (kind === 'first') {
          seen.firstAnswerAt = Number(at);
          seen.firstStatus = Number(a);
        }
        if (kind === 'ok') {
          seen.okAt = Number(at);
          seen.attempts = Number(a);
          seen.firstStatus ??= Number(b);
        }
        if (kind === 'timeout') {
          seen.attempts = Number(a);
          seen.timeout = b ?? 'unknown';
        }
        nl = partial.indexOf('\n');
      }
    });
    this.#child.stderr.setEncoding('utf8').on('data', (d: string) => (this.#tail = (this.#tail + d).slice(-1000)));
    this.done = this.#child.exited.then(() => ({
      ...seen,
      ...(seen.okAt === undefined && seen.timeout === undefined ? { timeout: `exited: ${this.#tail.trim()}` } : {}),
    }));
  }

  stop(): void {
    this.#child.kill('SIGKILL');
  }
}
