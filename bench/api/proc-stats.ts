// Where the time goes: CPU time of the server processes (from /proc/PID/stat), of this client
// process, and for etcd the number of gRPC calls and WAL fsyncs (from its /metrics), sampled
// before and after a phase.
import { realExec, realFs } from '../../src/lib/index.js';

let ticksPerSecond: number | undefined;

async function clockTicks(): Promise<number> {
  if (ticksPerSecond === undefined) {
    const r = await realExec().run('getconf', ['CLK_TCK'], { timeoutMs: 5_000 });
    const n = Number(r.stdout.trim());
    ticksPerSecond = r.code === 0 && n > 0 ? n : 100;
  }
  return ticksPerSecond;
}

/** User + system CPU milliseconds a process has used; 0 if it is gone. */
async function processCpuMs(pid: number): Promise<number> {
  try {
    const stat = await realFs().readText(`/proc/${pid}/stat`);
    // Fields after the command name (which is in parentheses and may contain spaces).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return ((utime + stime) * 1000) / (await clockTicks());
  } catch {
    return 0;
  }
}

/** The children of a process (neutron-server's api, rpc and periodic workers). */
export async function childPids(pid: number): Promise<number[]> {
  const r = await realExec().run('pgrep', ['-P', String(pid)], { timeoutMs: 5_000 });
  return r.stdout
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Busy CPU milliseconds of the whole machine (all cores) since boot, from /proc/stat. */
async function machineBusyMs(): Promise<number> {
  try {
    const first = (await realFs().readText('/proc/stat')).split('\n')[0] ?? '';
    // cpu  user nice system idle iowait irq softirq steal ...
    const f = first.trim().split(/\s+/).slice(1).map(Number);
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return (busy * 1000) / (await clockTicks());
  } catch {
    return 0;
  }
}

export interface CpuSample {
  readonly at: number;
  readonly machineMs: number;
  readonly serverMs: number;
  readonly etcdMs: number;
  readonly clientMs: number;
  readonly etcdCalls: Record<string, number>;
}

export interface CpuPerOp {
  /** CPU milliseconds per operation in the API server process(es). */
  readonly serverMs: number;
  readonly etcdMs: number | undefined;
  /** This benchmark process (the client; for Brindle also the bind-phase watcher). */
  readonly clientMs: number;
  /** etcd gRPC calls (by method) and WAL fsyncs per operation. */
  readonly etcdCalls: Record<string, number> | undefined;
  /**
   * Cores used, on average over the phase, by everything else on the machine (busy CPU minus
   * the server, etcd and this process): other work that disturbed the measurement.
   */
  readonly otherCores: number;
}

/** Parses the counters we want out of etcd's Prometheus text. */
function parseEtcdMetrics(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const handled = /^grpc_server_handled_total\{[^}]*grpc_method="([^"]+)"[^}]*\}\s+(\S+)/.exec(line);
    if (handled !== null) {
      const method = handled[1] ?? '?';
      out[method] = (out[method] ?? 0) + Number(handled[2]);
      continue;
    }
    const fsync = /^etcd_disk_wal_fsync_duration_seconds_count\s+(\S+)/.exec(line);
    if (fsync !== null) out['walFsync'] = Number(fsync[1]);
  }
  return out;
}

async function etcdCounters(endpoint: string | undefined): Promise<Record<string, number>> {
  if (endpoint === undefined) return {};
  try {
    const res = await fetch(`${endpoint}/metrics`);
    return parseEtcdMetrics(await res.text());
  } catch {
    return {};
  }
}

export interface Watched {
  /** The API server's processes (for neutron-server: the parent and its workers). */
  readonly serverPids: () => Promise<number[]>;
  readonly etcdPid: number | undefined;
  readonly etcdEndpoint: string | undefined;
}

export async function sample(w: Watched): Promise<CpuSample> {
  const server = await Promise.all((await w.serverPids()).map(processCpuMs));
  const cpu = process.cpuUsage();
  return {
    at: performance.now(),
    machineMs: await machineBusyMs(),
    serverMs: server.reduce((a, b) => a + b, 0),
    etcdMs: w.etcdPid === undefined ? 0 : await processCpuMs(w.etcdPid),
    clientMs: (cpu.user + cpu.system) / 1000,
    etcdCalls: await etcdCounters(w.etcdEndpoint),
  };
}

export function perOp(before: CpuSample, after: CpuSample, ops: number, w: Watched): CpuPerOp {
  const per = (a: number, b: number): number => Math.round(((b - a) / Math.max(1, ops)) * 100) / 100;
  let etcdCalls: Record<string, number> | undefined;
  if (w.etcdEndpoint !== undefined) {
    etcdCalls = {};
    for (const [k, v] of Object.entries(after.etcdCalls)) {
      const d = per(before.etcdCalls[k] ?? 0, v);
      if (d > 0) etcdCalls[k] = d;
    }
  }
  const ours = after.serverMs - before.serverMs + (after.etcdMs - before.etcdMs) + (after.clientMs - before.clientMs);
  // Clock ticks are 10 ms: below a second the estimate is noise, so it is left at 0.
  const elapsed = after.at - before.at;
  const other = elapsed < 1_000 ? 0 : Math.max(0, after.machineMs - before.machineMs - ours) / elapsed;
  return {
    otherCores: Math.round(other * 100) / 100,
    serverMs: per(before.serverMs, after.serverMs),
    etcdMs: w.etcdPid === undefined ? undefined : per(before.etcdMs, after.etcdMs),
    clientMs: per(before.clientMs, after.clientMs),
    etcdCalls,
  };
}
