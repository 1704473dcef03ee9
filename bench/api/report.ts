// The API benchmark's output: machine info, the side-by-side table (stdout) and
// bench/results/api.json under the project root.
import { join } from 'node:path';
import { realExec, realFs } from '../../src/lib/index.js';
import { machineInfo as datastoreMachineInfo, type Machine } from '../datastore/report.js';
import type { BindFigures, LatencyFigures, ListFigures } from './measure.js';
import { projectRoot } from './servers.js';

/** What one server produced; figures it did not measure are undefined. */
export interface ServerFigures {
  readonly sequential: LatencyFigures;
  readonly concurrent: LatencyFigures;
  readonly boundCreate: LatencyFigures;
  readonly bind: BindFigures;
  readonly list: ListFigures;
  /** Brindle only: the untimed creates that bring the port count up to the list size. */
  readonly fill?: LatencyFigures;
}

export type Outcome = { readonly figures: ServerFigures } | { readonly error: string };

export interface ApiMachine extends Machine {
  readonly neutronServer: string;
}

export async function machineInfo(): Promise<ApiMachine> {
  const r = await realExec().run('dpkg-query', ['-W', 'neutron-server'], { timeoutMs: 10_000 });
  const neutronServer = r.code === 0 ? r.stdout.trim().replace(/\s+/, ' ') : 'neutron-server not installed';
  return { ...(await datastoreMachineInfo()), neutronServer };
}

type Better = 'higher' | 'lower';

interface Row {
  readonly label: string;
  readonly better: Better;
  readonly pick: (f: ServerFigures) => number | undefined;
  readonly format: (n: number, f: ServerFigures) => string;
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => (n < 10 ? `${n.toFixed(2)} ms` : n < 100 ? `${n.toFixed(1)} ms` : `${int(n)} ms`);
const perSec = (n: number): string => (n < 100 ? `${n.toFixed(1)}/s` : `${int(n)}/s`);
const listTime = (n: number, f: ServerFigures): string => `${n < 1 ? `${int(n * 1000)} ms` : `${n.toFixed(2)} s`} (${int(f.list.ports)})`;
const us = (n: number): string => `${int(n)} us`;

function rows(brindle: ServerFigures | undefined, neutron: ServerFigures | undefined): Row[] {
  const n = (pick: (f: ServerFigures) => number, fallback: number): string => {
    const b = brindle === undefined ? fallback : pick(brindle);
    const q = neutron === undefined ? undefined : pick(neutron);
    return `${int(b)}/${q === undefined ? '-' : int(q)}`;
  };
  const seq = n((f) => f.sequential.n, 0);
  const conc = n((f) => f.concurrent.n, 0);
  const bound = n((f) => f.boundCreate.n, 0);
  const bind = n((f) => f.bind.put.n, 0);
  return [
    { label: `port create, sequential p50 (N=${seq})`, better: 'lower', pick: (f) => f.sequential.p50Ms, format: ms },
    { label: '  p90', better: 'lower', pick: (f) => f.sequential.p90Ms, format: ms },
    { label: '  p99', better: 'lower', pick: (f) => f.sequential.p99Ms, format: ms },
    { label: '  mean', better: 'lower', pick: (f) => f.sequential.meanMs, format: ms },
    { label: `port create, 16 in flight (N=${conc})`, better: 'higher', pick: (f) => f.concurrent.perSecond, format: perSec },
    { label: '  p50', better: 'lower', pick: (f) => f.concurrent.p50Ms, format: ms },
    { label: '  p99', better: 'lower', pick: (f) => f.concurrent.p99Ms, format: ms },
    { label: `bound port create p50 (N=${bound})`, better: 'lower', pick: (f) => f.boundCreate.p50Ms, format: ms },
    { label: '  p99', better: 'lower', pick: (f) => f.boundCreate.p99Ms, format: ms },
    { label: `bind existing port (PUT) p50 (N=${bind})`, better: 'lower', pick: (f) => f.bind.put.p50Ms, format: ms },
    { label: '  p99', better: 'lower', pick: (f) => f.bind.put.p99Ms, format: ms },
    { label: 'bind -> WorkloadEndpoint written p50', better: 'lower', pick: (f) => f.bind.endpoint?.p50Ms, format: ms },
    { label: '  p99', better: 'lower', pick: (f) => f.bind.endpoint?.p99Ms, format: ms },
    { label: 'GET /v2.0/ports, best of 3 (ports)', better: 'lower', pick: (f) => f.list.bestSeconds, format: listTime },
    { label: '  per listed port', better: 'lower', pick: (f) => f.list.microsecondsPerPort, format: us },
    { label: 'server CPU per sequential create', better: 'lower', pick: (f) => f.sequential.cpuPerOp.serverMs, format: ms },
  ];
}

/** How many times better Brindle is than neutron-server on a row (>1 = Brindle better). */
function speedup(better: Better, brindle: number | undefined, neutron: number | undefined): string {
  if (brindle === undefined || neutron === undefined || !Number.isFinite(brindle) || !Number.isFinite(neutron) || brindle === 0 || neutron === 0) return 'n/a';
  const r = better === 'lower' ? neutron / brindle : brindle / neutron;
  return r >= 100 ? `${int(r)}x` : `${r.toFixed(1)}x`;
}

export interface Columns {
  readonly embedded: Outcome;
  readonly etcd: Outcome;
  readonly neutron: Outcome;
}

const figuresOf = (o: Outcome): ServerFigures | undefined => ('figures' in o ? o.figures : undefined);

/** The side-by-side table; the last two columns are neutron-server's figure over Brindle's (or the reverse for rates). */
export function formatTable(c: Columns): string {
  const [emb, etcd, neu] = [figuresOf(c.embedded), figuresOf(c.etcd), figuresOf(c.neutron)];
  const header = ['', 'brindle embedded', 'brindle etcd', 'neutron-server', 'etcd vs neutron', 'embedded vs neutron'];
  const cell = (r: Row, f: ServerFigures | undefined, o: Outcome): string => {
    if (f === undefined) return 'error' in o ? 'FAILED' : '-';
    const v = r.pick(f);
    return v === undefined || !Number.isFinite(v) ? '-' : r.format(v, f);
  };
  const body = rows(etcd ?? emb, neu).map((r) => [
    r.label,
    cell(r, emb, c.embedded),
    cell(r, etcd, c.etcd),
    cell(r, neu, c.neutron),
    speedup(r.better, etcd === undefined ? undefined : r.pick(etcd), neu === undefined ? undefined : r.pick(neu)),
    speedup(r.better, emb === undefined ? undefined : r.pick(emb), neu === undefined ? undefined : r.pick(neu)),
  ]);
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]): string => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The architecture's targets for Brindle over etcd, checked against this run. */
export function targets(c: Columns): string[] {
  const etcd = figuresOf(c.etcd);
  if (etcd === undefined) return ['targets: brindle over etcd did not complete'];
  const p50 = etcd.sequential.p50Ms;
  const rate = etcd.concurrent.perSecond;
  return [
    `target port create p50 <= 5 ms over etcd: ${p50.toFixed(2)} ms -> ${p50 <= 5 ? 'met' : 'MISSED'}`,
    `target >= 1,000 ports/s concurrent over etcd: ${int(rate)}/s -> ${rate >= 1000 ? 'met' : 'MISSED'}`,
  ];
}

/** Writes the figures to bench/results/api.json; returns its path. */
export async function writeResults(data: unknown): Promise<string> {
  const fs = realFs();
  const dir = join(projectRoot(), 'bench', 'results');
  await fs.ensureDir(dir);
  const path = join(dir, 'api.json');
  const json = JSON.stringify(data, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
  await fs.writeTextAtomic(path, `${json}\n`);
  return path;
}
