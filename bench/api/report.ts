// The API benchmark's output: machine info, the side-by-side table (stdout) and
// bench/results/api.json under the project root.
import { join } from 'node:path';
import { realExec, realFs } from '../../src/lib/index.js';
import { machineInfo as datastoreMachineInfo, type Machine } from '../datastore/report.js';
import type { BindFigures, LatencyFigures, ListFigures } from './measure.js';
import { projectRoot } from './servers.js';

/** What one server produced; phases that did not run (or failed outright) are absent. */
export interface ServerFigures {
  /** Sequential creates after Brindle's warm-up (neutron-server: after its 10 creates). */
  sequential?: LatencyFigures;
  /** Brindle only: the same sequential creates right after start (10 creates in), before the warm-up: what the runs before 2026-12-07's seventh session timed. */
  sequentialFirst?: LatencyFigures;
  concurrent?: LatencyFigures;
  bind?: BindFigures;
  boundCreate?: LatencyFigures;
  /** Brindle only: the creates (16 in flight) that bring the port count up to the list size. */
  fill?: LatencyFigures[];
  list?: ListFigures;
  /** Brindle only: sequential creates once the list size is reached. */
  sequentialAtListSize?: LatencyFigures;
  /** Bulk creates of 100 ports, one request at a time (latency per request, perSecond in ports). */
  bulk?: LatencyFigures;
  /** Brindle on etcd only: the 16-way creates again with `brindle api --workers 2`. */
  workers2?: LatencyFigures;
  /** Brindle on etcd only: sequential and 16-way creates again with `--auth keystone` (a real Keystone; every request carries a token). */
  keystoneSequential?: LatencyFigures;
  keystoneConcurrent?: LatencyFigures;
}

export interface Outcome {
  readonly figures: ServerFigures;
  /** Why the run of this server stopped early, if it did. */
  readonly error?: string;
  /** Requests that failed (non-2xx, transport errors, or a port that did not come back bound). */
  readonly failedRequests: number;
}

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
const listTime = (n: number, f: ServerFigures): string => `${n < 1 ? `${int(n * 1000)} ms` : `${n.toFixed(2)} s`} (${int(f.list?.ports ?? 0)})`;
const us = (n: number): string => `${int(n)} us`;

/** `a/b` of a count the two sides ran with (Brindle first). */
function counts(brindle: ServerFigures | undefined, neutron: ServerFigures | undefined, pick: (f: ServerFigures) => number | undefined): string {
  const b = brindle === undefined ? undefined : pick(brindle);
  const q = neutron === undefined ? undefined : pick(neutron);
  return `${b === undefined ? '-' : int(b)}/${q === undefined ? '-' : int(q)}`;
}

function rows(brindle: ServerFigures | undefined, neutron: ServerFigures | undefined, listSize: number): Row[] {
  const seq = counts(brindle, neutron, (f) => f.sequential?.n);
  const conc = counts(brindle, neutron, (f) => f.concurrent?.n);
  const bound = counts(brindle, neutron, (f) => f.boundCreate?.n);
  const bind = counts(brindle, neutron, (f) => f.bind?.put.n);
  const atList = brindle?.sequentialAtListSize?.n ?? 0;
  const listed = brindle?.list?.ports ?? listSize;
  return [
    { label: `port create, sequential p50 (N=${seq})`, better: 'lower', pick: (f) => f.sequential?.p50Ms, format: ms },
    { label: '  p90', better: 'lower', pick: (f) => f.sequential?.p90Ms, format: ms },
    { label: '  p99', better: 'lower', pick: (f) => f.sequential?.p99Ms, format: ms },
    { label: '  mean', better: 'lower', pick: (f) => f.sequential?.meanMs, format: ms },
    { label: '  p50 of the first ones after start, before the warm-up', better: 'lower', pick: (f) => f.sequentialFirst?.p50Ms, format: ms },
    { label: `port create, 16 in flight (N=${conc})`, better: 'higher', pick: (f) => f.concurrent?.perSecond, format: perSec },
    { label: '  p50', better: 'lower', pick: (f) => f.concurrent?.p50Ms, format: ms },
    { label: '  p99', better: 'lower', pick: (f) => f.concurrent?.p99Ms, format: ms },
    { label: '  with --workers 2 (etcd)', better: 'higher', pick: (f) => f.workers2?.perSecond, format: perSec },
    { label: '    p99', better: 'lower', pick: (f) => f.workers2?.p99Ms, format: ms },
    { label: '  with --auth keystone (etcd), sequential p50', better: 'lower', pick: (f) => f.keystoneSequential?.p50Ms, format: ms },
    { label: '    16 in flight', better: 'higher', pick: (f) => f.keystoneConcurrent?.perSecond, format: perSec },
    {
      label: `bulk create of 100 ports, per request p50 (N=${counts(brindle, neutron, (f) => f.bulk?.n)})`,
      better: 'lower',
      pick: (f) => f.bulk?.p50Ms,
      format: ms,
    },
    { label: '  ports/s', better: 'higher', pick: (f) => f.bulk?.perSecond, format: perSec },
    { label: `bound port create p50 (N=${bound})`, better: 'lower', pick: (f) => f.boundCreate?.p50Ms, format: ms },
    { label: '  p99', better: 'lower', pick: (f) => f.boundCreate?.p99Ms, format: ms },
    { label: `bind existing port (PUT) p50 (N=${bind})`, better: 'lower', pick: (f) => f.bind?.put.p50Ms, format: ms },
    { label: '  p99', better: 'lower', pick: (f) => f.bind?.put.p99Ms, format: ms },
    { label: 'bind -> WorkloadEndpoint seen p50', better: 'lower', pick: (f) => f.bind?.endpoint?.p50Ms, format: ms },
    { label: '  p99', better: 'lower', pick: (f) => f.bind?.endpoint?.p99Ms, format: ms },
    { label: 'GET /v2.0/ports, best of 3 (ports)', better: 'lower', pick: (f) => f.list?.bestSeconds, format: listTime },
    { label: '  per listed port', better: 'lower', pick: (f) => f.list?.microsecondsPerPort, format: us },
    { label: 'GET ports?fixed_ips=ip_address=X p50 (N=20)', better: 'lower', pick: (f) => f.list?.lookupByAddressP50Ms, format: ms },
    { label: `port create p50 at ${int(listed)} ports (N=${int(atList)})`, better: 'lower', pick: (f) => f.sequentialAtListSize?.p50Ms, format: ms },
    { label: '  p99', better: 'lower', pick: (f) => f.sequentialAtListSize?.p99Ms, format: ms },
    { label: 'server CPU per sequential create', better: 'lower', pick: (f) => f.sequential?.cpuPerOp.serverMs, format: ms },
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

/** The side-by-side table; the last two columns say how many times better Brindle is than neutron-server. */
export function formatTable(c: Columns, listSize: number): string {
  const header = ['', 'brindle embedded', 'brindle etcd', 'neutron-server', 'etcd vs neutron', 'embedded vs neutron'];
  const cell = (r: Row, o: Outcome): string => {
    const v = r.pick(o.figures);
    if (v !== undefined && Number.isFinite(v)) return r.format(v, o.figures);
    return o.error === undefined ? '-' : 'FAILED';
  };
  const pick = (r: Row, o: Outcome): number | undefined => r.pick(o.figures);
  const brindle: ServerFigures = { ...c.embedded.figures, ...c.etcd.figures };
  const body = rows(brindle, c.neutron.figures, listSize).map((r) => [
    r.label,
    cell(r, c.embedded),
    cell(r, c.etcd),
    cell(r, c.neutron),
    speedup(r.better, pick(r, c.etcd), pick(r, c.neutron)),
    speedup(r.better, pick(r, c.embedded), pick(r, c.neutron)),
  ]);
  body.push(['failed requests (all phases)', int(c.embedded.failedRequests), int(c.etcd.failedRequests), int(c.neutron.failedRequests), '', '']);
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]): string => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** The architecture's targets for Brindle over etcd, checked against this run. */
export function targets(c: Columns): string[] {
  const f = c.etcd.figures;
  const check = (label: string, value: number | undefined, goal: number, better: Better, show: (n: number) => string): string =>
    value === undefined
      ? `target ${label}: not measured`
      : `target ${label}: ${show(value)} -> ${(better === 'lower' ? value <= goal : value >= goal) ? 'met' : 'MISSED'}`;
  return [
    check('port create p50 <= 2 ms over etcd (sequential)', f.sequential?.p50Ms, 2, 'lower', ms),
    check('>= 1,000 ports/s over etcd, 16 in flight', f.concurrent?.perSecond, 1000, 'higher', perSec),
    check('p99 of that <= 50 ms', f.concurrent?.p99Ms, 50, 'lower', ms),
    check(`GET of ${int(f.list?.ports ?? 0)} ports <= 1.5 s (the target is for 100,000)`, f.list?.bestSeconds, 1.5, 'lower', (n) => `${n.toFixed(2)} s`),
    check('bind -> WorkloadEndpoint written p99 <= 20 ms', f.bind?.endpoint?.p99Ms, 20, 'lower', ms),
    f.keystoneSequential === undefined || f.sequential === undefined
      ? 'target keystone sequential p50 within 1.2x of noauth: not measured'
      : `target keystone sequential p50 within 1.2x of noauth: ${ms(f.keystoneSequential.p50Ms)} vs ${ms(f.sequential.p50Ms)} (x${(f.keystoneSequential.p50Ms / f.sequential.p50Ms).toFixed(2)}) -> ${f.keystoneSequential.p50Ms <= 1.2 * f.sequential.p50Ms ? 'met' : 'MISSED'}`,
    `workers: 16 in flight over etcd with 1 worker ${f.concurrent === undefined ? '-' : perSec(f.concurrent.perSecond)}, with 2 ${f.workers2 === undefined ? '-' : perSec(f.workers2.perSecond)}` +
      `${f.concurrent !== undefined && f.workers2 !== undefined ? ` (x${(f.workers2.perSecond / f.concurrent.perSecond).toFixed(2)})` : ''}`,
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
