// The benchmark's output: machine info, the side-by-side table (stdout) and the JSON file
// bench/results/datastore.json under the project root.
import { cpus, arch, release, tmpdir, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { realExec, realFs } from '../../src/lib/index.js';
import type { ListFigures, PutFigures } from './throughput.js';
import type { WatchFigures } from './watch-latency.js';
import { projectRoot } from '../project-root.js';

export interface BackendFigures {
  readonly sequentialPuts: PutFigures;
  readonly concurrentPuts: PutFigures;
  readonly watch: WatchFigures;
  readonly list: ListFigures;
}

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly totalMemoryGiB: number;
  readonly node: string;
  readonly etcd: string;
  readonly os: string;
  /** Where both backends keep their data (etcd's and SQLite's fsyncs land here). */
  readonly tmpdir: string;
  readonly tmpdirFilesystem: string;
}

export async function machineInfo(): Promise<Machine> {
  const exec = realExec();
  const firstLine = async (cmd: string, args: string[]): Promise<string> => {
    const r = await exec.run(cmd, args, { timeoutMs: 10_000 });
    return r.code === 0 ? (r.stdout.split('\n')[0] ?? '').trim() : `unknown (${cmd} exited ${r.code ?? r.signal})`;
  };
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    totalMemoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    etcd: await firstLine('etcd', ['--version']),
    os: `${type()} ${release()} ${arch()}`,
    tmpdir: tmpdir(),
    tmpdirFilesystem: await firstLine('findmnt', ['-n', '-o', 'FSTYPE', '-T', tmpdir()]),
  };
}

interface Row {
  readonly label: string;
  readonly better: 'higher' | 'lower';
  readonly pick: (f: BackendFigures) => number;
  readonly format: (n: number) => string;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => `${n} ms`;
const secs = (n: number): string => `${n.toFixed(n < 10 ? 3 : 1)} s`;

function rows(f: BackendFigures): Row[] {
  const { sequentialPuts: s, concurrentPuts: c, watch: w, list: l } = f;
  return [
    { label: `puts/s, sequential (N=${s.n})`, better: 'higher', pick: (x) => x.sequentialPuts.perSecond, format: int },
    { label: `puts/s, ${c.inFlight} in flight (N=${c.n})`, better: 'higher', pick: (x) => x.concurrentPuts.perSecond, format: int },
    { label: `watch latency p50 (${w.events} puts, other process)`, better: 'lower', pick: (x) => x.watch.p50Ms, format: ms },
    { label: 'watch latency p99', better: 'lower', pick: (x) => x.watch.p99Ms, format: ms },
    { label: 'watch latency max', better: 'lower', pick: (x) => x.watch.maxMs, format: ms },
    { label: `load ${int(l.keys)} keys (txns of ${l.txnSize})`, better: 'lower', pick: (x) => x.list.loadSeconds, format: secs },
    { label: `list ${int(l.keys)} keys, best of ${l.listRuns}`, better: 'lower', pick: (x) => x.list.bestListSeconds, format: secs },
    { label: 'list keys/s', better: 'higher', pick: (x) => x.list.keysPerSecond, format: int },
  ];
}

/** The side-by-side table; the ratio is embedded divided by etcd. */
export function formatTable(embedded: BackendFigures, etcd: BackendFigures): string {
  const header = ['', 'embedded', 'etcd', 'embedded/etcd', 'better'];
  const body = rows(embedded).map((r) => {
    const [a, b] = [r.pick(embedded), r.pick(etcd)];
    const ratio = b === 0 || !Number.isFinite(a / b) ? 'n/a' : `${(a / b).toFixed(2)}x`;
    return [r.label, r.format(a), r.format(b), ratio, r.better];
  });
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]): string => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Writes the figures to bench/results/datastore.json; returns its path. */
export async function writeResults(data: unknown): Promise<string> {
  const fs = realFs();
  const dir = join(projectRoot(), 'bench', 'results');
  await fs.ensureDir(dir);
  const path = join(dir, 'datastore.json');
  await fs.writeTextAtomic(path, `${JSON.stringify(data, null, 2)}\n`);
  return path;
}
