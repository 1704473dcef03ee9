// `bin/brindle node` as a separate process, the way an operator runs it: its readiness polled
// over HTTP, its milestones read from its log (info level: a handful of lines), its metrics
// scraped, its memory and CPU read from /proc.
import { join } from 'node:path';
import { freePort, realExec, realFs, type ExitStatus } from '../../src/lib/index.js';
import { checkStop, progress, sleep } from '../datastore/workload.js';
import { projectRoot } from '../project-root.js';
import type { World } from './world.js';

export interface AgentSpec {
  readonly tag: string;
  readonly storePath: string;
  readonly hostname: string;
  readonly netns: string;
  /** Diagnostics: write a V8 CPU profile into this directory when the agent exits. */
  readonly cpuProfDir?: string;
  /** Diagnostics: SIGUSR2 makes the agent write a V8 heap snapshot into this directory. */
  readonly heapSnapshotDir?: string;
  /** Diagnostics: put this directory first on the agent's PATH (a timing wrapper for `ip`). */
  readonly pathPrefix?: string;
}

/** A log line of the agent, with the time it arrived here (performance.now()). */
export interface LogLine {
  readonly at: number;
  readonly level: number;
  readonly msg: string;
  readonly raw: string;
}

export interface ProcStat {
  /** CPU ms of the process itself (user + system). */
  readonly selfMs: number;
  /** CPU ms of its children that have exited and been waited for (the kernel tools it ran). */
  readonly childrenMs: number;
}

export interface Memory {
  readonly vmRssMiB: number;
  readonly vmHwmMiB: number;
  /** From the agent's own metrics (prom-client's defaults): V8 heap used and allocated, memory outside the heap. */
  readonly heapUsedMiB?: number;
  readonly heapTotalMiB?: number;
  readonly externalMiB?: number;
}

let ticks: number | undefined;
async function clockTicks(): Promise<number> {
  if (ticks === undefined) {
    const r = await realExec().run('getconf', ['CLK_TCK'], { timeoutMs: 5_000 });
    const n = Number(r.stdout.trim());
    ticks = r.code === 0 && n > 0 ? n : 100;
  }
  return ticks;
}

/** utime+stime and cutime+cstime of a process, in ms. */
export async function procStat(pid: number): Promise<ProcStat> {
  const stat = await realFs().readText(`/proc/${pid}/stat`);
  const f = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  const hz = await clockTicks();
  return { selfMs: (((f[11] ?? 0) + (f[12] ?? 0)) * 1000) / hz, childrenMs: (((f[13] ?? 0) + (f[14] ?? 0)) * 1000) / hz };
}

const mib = (kib: number): number => Math.round((kib / 1024) * 10) / 10;

/** A process's resident memory now and at its peak (VmRSS, VmHWM), in MiB. */
export async function vmMemory(pid: number): Promise<{ vmRssMiB: number; vmHwmMiB: number }> {
  const status = await realFs().readText(`/proc/${pid}/status`);
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { vmRssMiB: mib(kb('VmRSS')), vmHwmMiB: mib(kb('VmHWM')) };
}

export async function memory(agent: AgentProcess): Promise<Memory> {
  const m = await agent.metrics().catch(() => new Map<string, number>());
  const fromMetric = <K extends string>(key: K, name: string): Partial<Record<K, number>> => {
    const bytes = m.get(name);
    return (bytes === undefined ? {} : { [key]: mib(bytes / 1024) }) as Partial<Record<K, number>>;
  };
  return {
    ...(await vmMemory(agent.pid)),
    ...fromMetric('heapUsedMiB', 'nodejs_heap_size_used_bytes'),
    ...fromMetric('heapTotalMiB', 'nodejs_heap_size_total_bytes'),
    ...fromMetric('externalMiB', 'nodejs_external_memory_bytes'),
  };
}

/** Busy CPU ms of the whole machine since boot (all cores), from /proc/stat. */
export async function machineBusyMs(): Promise<number> {
  const first = (await realFs().readText('/proc/stat')).split('\n')[0] ?? '';
  const f = first.trim().split(/\s+/).slice(1).map(Number);
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return (busy * 1000) / (await clockTicks());
}

export class AgentProcess {
  readonly pid: number;
  readonly url: string;
  /** performance.now() just before the process was spawned. */
  readonly startedAt: number;
  readonly log: LogLine[] = [];
  #exit: ExitStatus | undefined;
  readonly #exited: Promise<ExitStatus>;
  readonly #kill: (signal: NodeJS.Signals) => void;
  #tail = '';

  private constructor(pid: number, url: string, startedAt: number, exited: Promise<ExitStatus>, kill: (signal: NodeJS.Signals) => void) {
    this.pid = pid;
    this.url = url;
    this.startedAt = startedAt;
    this.#exited = exited;
    this.#kill = kill;
    void exited.then((s) => (this.#exit = s));
  }

  /** Spawns `node bin/brindle node …`; returns at once (the clock starts just before the spawn). */
  static async start(world: World, spec: AgentSpec): Promise<AgentProcess> {
    const port = await freePort();
    const bin = join(projectRoot(), 'bin', 'brindle');
    const args = [
      ...(spec.cpuProfDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', spec.cpuProfDir]),
      ...(spec.heapSnapshotDir === undefined ? [] : ['--heapsnapshot-signal=SIGUSR2', '--diagnostic-dir', spec.heapSnapshotDir, '--trace-gc']),
      bin,
      'node',
      '--datastore',
      `embedded:${spec.storePath}`,
      '--hostname',
      spec.hostname,
      '--netns',
      spec.netns,
      // The policy dataplane only (Felix's share): BIRD and dnsmasq are other processes in
      // Calico, and bench/bgp and bench/boot measure them.
      '--no-bgp',
      '--no-dhcp',
      // run.ts's --dataplane (default nft, as brindle node's own default).
      '--dataplane',
      process.env['BRINDLE_DATAPLANE'] ?? 'nft',
      '--health-listen',
      `127.0.0.1:${port}`,
      // info adds only a few milestone lines (sync status, dataplane starting, first apply).
      '--log-level',
      'info',
    ];
    const startedAt = performance.now();
    const env = spec.pathPrefix === undefined ? undefined : { ...process.env, PATH: `${spec.pathPrefix}:${process.env['PATH'] ?? ''}` };
    const child = world.track(realExec().spawn(process.execPath, args, env === undefined ? {} : { env }));
    child.stdin.end();
    const agent = new AgentProcess(child.pid, `http://127.0.0.1:${port}`, startedAt, child.exited, (s) => child.kill(s));
    let partial = '';
    const onData = (d: Buffer): void => {
      const at = performance.now();
      const text = d.toString('utf8');
      agent.#tail = (agent.#tail + text).slice(-8_000);
      partial += text;
      for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
        const raw = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        try {
          const j = JSON.parse(raw) as { level?: number; msg?: string };
          agent.log.push({ at, level: j.level ?? 0, msg: j.msg ?? '', raw: raw.slice(0, 2000) });
        } catch {
          agent.log.push({ at, level: 0, msg: raw.slice(0, 200), raw: raw.slice(0, 2000) });
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    progress(spec.tag, `brindle node pid ${child.pid} (netns ${spec.netns}, health ${agent.url})`);
    return agent;
  }

  /** Why it is not running any more, with its last output; undefined while it runs. */
  exitedEarly(): string | undefined {
    if (this.#exit === undefined) return undefined;
    return `brindle node (pid ${this.pid}) exited (${this.#exit.code ?? this.#exit.signal}); its last output:\n${this.#tail.slice(-3000)}`;
  }

  #check(): void {
    const why = this.exitedEarly();
    if (why !== undefined) throw new Error(why);
  }

  /** Polls `GET /readiness` every `everyMs` until 200; returns performance.now() of the first 200. */
  async waitReady(everyMs: number, timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    let lastLog = performance.now();
    for (;;) {
      checkStop();
      this.#check();
      try {
        const res = await fetch(`${this.url}/readiness`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) return performance.now();
      } catch {
        // not listening yet
      }
      if (performance.now() > deadline) throw new Error(`${this.url}/readiness not 200 within ${timeoutMs} ms; last output:\n${this.#tail.slice(-2000)}`);
      if (performance.now() - lastLog > 5_000) {
        lastLog = performance.now();
        progress('agent', `  not ready yet after ${((performance.now() - this.startedAt) / 1000).toFixed(0)} s`);
      }
      await sleep(everyMs);
    }
  }

  /** The Prometheus text of `/metrics`, as name{labels} → value. */
  async metrics(): Promise<Map<string, number>> {
    const res = await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    const out = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const sp = line.lastIndexOf(' ');
      out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
    }
    return out;
  }

  /** SIGTERM (the agent leaves the dataplane as it is), SIGKILL after 10 s; returns how it went. */
  /** Diagnostics: everything it printed (logs, `--trace-gc` lines), each line with the wall-clock time it arrived. */
  async writeLog(path: string): Promise<void> {
    const lines = this.log.map((l) => `${new Date(performance.timeOrigin + l.at).toISOString()} ${l.raw}`);
    await realFs().writeTextAtomic(path, `${lines.join('\n')}\n`);
  }

  /** Diagnostics: asks for a heap snapshot (started with `heapSnapshotDir`). */
  signal(signal: NodeJS.Signals): void {
    this.#kill(signal);
  }

  async stop(): Promise<{ ms: number; killed: boolean; exit: ExitStatus }> {
    const t0 = performance.now();
    if (this.#exit !== undefined) return { ms: 0, killed: false, exit: this.#exit };
    this.#kill('SIGTERM');
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      progress('agent', `brindle node pid ${this.pid} still running 10 s after SIGTERM: SIGKILL`);
      this.#kill('SIGKILL');
    }, 10_000);
    const exit = await this.#exited;
    clearTimeout(timer);
    return { ms: Math.round(performance.now() - t0), killed, exit };
  }
}

/** Sum of a metric over all label sets whose name and labels contain every `parts`. */
export function metricSum(m: Map<string, number>, ...parts: string[]): number {
  let sum = 0;
  for (const [k, v] of m) if (parts.every((p) => k.includes(p))) sum += v;
  return sum;
}
