// The agent benchmark's output: machine info, the table (stdout), and
// bench/results/agent-<timestamp>.json under the project root.
import { join } from 'node:path';
import { realExec, realFs } from '../../src/lib/index.js';
import { machineInfo as datastoreMachineInfo, type Machine } from '../datastore/report.js';
import { projectRoot } from '../project-root.js';
import type { Stats } from '../api/measure.js';
import type { AddFigures } from './adds.js';
import type { Memory } from './agent-process.js';
import type { CpuUse } from './cpu.js';
import { chainKinds, chainKindsNft, TABLES, type Dump, type PerTableRestore, type ToolsLoad } from './kernel.js';
import type { RepFigures, StartFigures, Throughput } from './phases.js';
import { int } from './int.js';
import type { Scenario } from './scenario.js';
import type { IperfFigures } from './throughput.js';

export interface AgentMachine extends Omit<Machine, 'etcd'> {
  readonly kernel: string;
  readonly nproc: string;
  readonly iptables: string;
  readonly ipset: string;
  readonly iproute2: string;
  readonly iperf3: string;
}

export async function machineInfo(): Promise<AgentMachine> {
  const exec = realExec();
  const first = async (cmd: string, args: string[]): Promise<string> => {
    const r = await exec.run(cmd, args, { timeoutMs: 10_000 });
    return (`${r.stdout}\n${r.stderr}`.split('\n').find((l) => l.trim() !== '') ?? `unknown (${cmd} exited ${r.code ?? r.signal})`).trim();
  };
  const { etcd: _etcd, ...base } = await datastoreMachineInfo();
  return {
    ...base,
    kernel: await first('uname', ['-r']),
    nproc: await first('nproc', []),
    iptables: await first('iptables', ['--version']),
    ipset: await first('ipset', ['--version']),
    iproute2: await first('ip', ['-V']),
    iperf3: await first('iperf3', ['--version']),
  };
}

/** Rows of label + columns, right-aligned except the first. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const ms = (n: number | undefined): string =>
  n === undefined || !Number.isFinite(n) ? '-' : n < 10 ? `${n.toFixed(2)} ms` : n < 1000 ? `${n.toFixed(0)} ms` : `${(n / 1000).toFixed(2)} s`;
export const ratio = (a: number | undefined, b: number | undefined): string =>
  a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? '-' : `${(a / b).toFixed(2)}x`;

/** Writes bench/results/agent-<timestamp>.json; returns its path. */
export async function writeResults(date: string, data: unknown, dataplane: 'nft' | 'iptables'): Promise<string> {
  const fs = realFs();
  const dir = join(projectRoot(), 'bench', 'results');
  await fs.ensureDir(dir);
  // The iptables runs keep the name they always had; the nft runs say so.
  const path = join(dir, `agent-${date.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}${dataplane === 'nft' ? '-nft' : ''}.json`);
  const json = JSON.stringify(data, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
  await fs.writeTextAtomic(path, `${json}\n`);
  return path;
}

export interface Results {
  scenario?: Record<string, unknown>;
  setup?: Record<string, number>;
  coldStart?: StartFigures;
  restart?: StartFigures;
  /** How the cold-started agent stopped on SIGTERM. */
  coldStop?: { ms: number; killed: boolean; exit: string };
  state?: Record<string, unknown>;
  tools?: ToolsLoad & { cpu: CpuUse };
  perTableRestore?: { parallel: PerTableRestore; sequential: PerTableRestore };
  readBack?: Record<string, RepFigures>;
  oneEndpointTools?: { lines: { chainsOnly: number; withDispatch: number }; figures: Record<string, RepFigures> };
  adds?: {
    tapFirst: AddFigures & { putMs: Stats; tapNoticedMs: Stats & { missed: number } };
    endpointFirst: AddFigures;
    cpu: CpuUse;
    agentMetrics: Record<string, number>;
  };
  memory?: { afterColdStart?: Memory; afterRestart?: Memory; afterAdds?: Memory };
  throughput?: Throughput;
  error?: string;
}

interface ReportParams {
  readonly scenario: { readonly localEndpoints: number };
  readonly iperf: { readonly seconds: number; readonly runs: number };
}

/** The main table, the three targets checked, and notes on where CPU went. */
export function formatReport(r: Results, p: ReportParams): { text: string; targets: string[]; notes: string[] } {
  const rows: string[][] = [];
  const cs = r.coldStart;
  const tools = r.tools;
  const rs = r.restart;
  const pt = r.perTableRestore;
  rows.push(['1. cold start to programmed', '', '', '']);
  rows.push(['  agent: spawn -> GET /readiness 200', ms(cs?.readyMs), '', '']);
  rows.push(['    spawn -> datastore in sync (agent log)', ms(cs?.log.inSyncMs), '', '']);
  rows.push(['    first apply (agent log)', ms(cs?.log.firstApplyMs), '', '']);
  rows.push([`  agent: spawn -> all ${int(p.scenario.localEndpoints)} status keys up`, ms(cs?.allStatusUpMs), '', '']);
  if (tools !== undefined && tools.nftMs > 0) {
    rows.push(['  tools: nft -f (both tables, sets and maps in them)', '', ms(tools.nftMs), '']);
  } else {
    rows.push(['  tools: ipset restore', '', ms(tools?.ipsetRestoreMs), '']);
    rows.push(['  tools: iptables-restore (4 tables)', '', ms(tools?.iptablesRestoreMs), '']);
    rows.push(['  tools: ip6tables-restore (4 tables)', '', ms(tools?.ip6tablesRestoreMs), '']);
  }
  rows.push(['  tools: ip -batch (routes + static ARP)', '', ms(tools?.ipBatchMs), '']);
  rows.push(['  ready vs tools alone (sum of the above)', ms(cs?.readyMs), ms(tools?.totalMs), ratio(cs?.readyMs, tools?.totalMs)]);
  rows.push(['  all status up vs tools alone', ms(cs?.allStatusUpMs), ms(tools?.totalMs), ratio(cs?.allStatusUpMs, tools?.totalMs)]);
  rows.push([
    '  first apply vs tools + sysctl -p',
    ms(cs?.log.firstApplyMs),
    ms(tools === undefined ? undefined : tools.totalMs + tools.sysctlMs),
    ratio(cs?.log.firstApplyMs, tools === undefined ? undefined : tools.totalMs + tools.sysctlMs),
  ]);
  rows.push(['  (not in the sum) sysctl -p of the per-tap keys', '', ms(tools?.sysctlMs), '']);
  rows.push([
    '  8 per-table restores --noflush: all at once vs one by one',
    ms(pt?.parallel.wallMs),
    ms(pt?.sequential.wallMs),
    ratio(pt?.parallel.wallMs, pt?.sequential.wallMs),
  ]);
  for (const [k, v] of Object.entries(r.readBack ?? {})) rows.push([`  read back: ${k}`, '', ms(v.p50Ms), '']);
  rows.push(['  restart on the programmed dataplane: ready', ms(rs?.readyMs), '', '']);
  rows.push([
    '    its first apply (iptables lines written)',
    rs === undefined ? '-' : `${ms(rs.log.firstApplyMs)} (${int(rs.log.firstApplyIptablesLines ?? NaN)})`,
    '',
    '',
  ]);
  const a = r.adds;
  const t1 = a?.tapFirst;
  rows.push(['2. endpoint added (tap already up) -> status up', '', '', '']);
  rows.push([`  p50 (N=${t1?.n ?? 0}, timed out ${t1?.timedOut ?? 0})`, ms(t1?.p50Ms), '', '']);
  rows.push(['  p90', ms(t1?.p90Ms), '', '']);
  rows.push(['  p99', ms(t1?.p99Ms), '', '']);
  rows.push(['  max', ms(t1?.maxMs), '', '']);
  rows.push([`  p99 of the ${t1?.withoutRefresh.n ?? 0} adds not during a refresh`, ms(t1?.withoutRefresh.p99Ms), '', '']);
  rows.push([
    '  (before each: tap created -> agent applied, p50 / max)',
    t1 === undefined ? '-' : `${ms(t1.tapNoticedMs.p50Ms)} / ${ms(t1.tapNoticedMs.maxMs)}`,
    '',
    '',
  ]);
  rows.push([`  Nova order: tap created -> status up, p50 (N=${a?.endpointFirst.n ?? 0})`, ms(a?.endpointFirst.p50Ms), '', '']);
  rows.push(['  Nova order: p99', ms(a?.endpointFirst.p99Ms), '', '']);
  for (const [k, v] of Object.entries(r.oneEndpointTools?.figures ?? {})) rows.push([`  tools: ${k}`, '', ms(v.p50Ms), '']);
  const noflush =
    r.oneEndpointTools?.figures['iptables-restore --noflush: + 2 dispatch bins rewritten'] ??
    r.oneEndpointTools?.figures['nft -f: 2 endpoint chains + 2 map entries'];
  rows.push(["  add p50 vs one endpoint's rules written by the tool", ms(t1?.p50Ms), ms(noflush?.p50Ms), ratio(t1?.p50Ms, noflush?.p50Ms)]);
  const mem = r.memory;
  const mib = (m: Memory | undefined, f: 'vmRssMiB' | 'vmHwmMiB'): string => (m === undefined ? '-' : `${m[f]} MiB`);
  rows.push(['3. agent memory', '', '', '']);
  rows.push(['  VmRSS after cold start (peak VmHWM)', `${mib(mem?.afterColdStart, 'vmRssMiB')} (${mib(mem?.afterColdStart, 'vmHwmMiB')})`, '', '']);
  rows.push(['  VmRSS after a restart (peak VmHWM)', `${mib(mem?.afterRestart, 'vmRssMiB')} (${mib(mem?.afterRestart, 'vmHwmMiB')})`, '', '']);
  rows.push(['  VmRSS after the adds (peak VmHWM)', `${mib(mem?.afterAdds, 'vmRssMiB')} (${mib(mem?.afterAdds, 'vmHwmMiB')})`, '', '']);
  const heap = (m: Memory | undefined): string =>
    m?.heapUsedMiB === undefined ? '-' : `${m.heapUsedMiB} / ${m.heapTotalMiB ?? '-'} / ${m.externalMiB ?? '-'} MiB`;
  rows.push(['  V8 heap used / allocated / outside, after cold start', heap(mem?.afterColdStart), '', '']);
  rows.push(['  V8 heap used / allocated / outside, after the adds', heap(mem?.afterAdds), '', '']);
  const t = r.throughput;
  const g = (f: IperfFigures | undefined): string =>
    f === undefined || !Number.isFinite(f.bestGbitPerSecond) ? '-' : `${f.bestGbitPerSecond.toFixed(2)} Gbit/s`;
  rows.push([`4. iperf3 VM -> VM, best of ${p.iperf.runs} x ${p.iperf.seconds} s`, '', '', '']);
  rows.push(['  full state, worst dispatch position vs empty host', g(t?.full), g(t?.bare), ratio(t?.full?.bestGbitPerSecond, t?.bare?.bestGbitPerSecond)]);
  rows.push([
    '  full state vs agent with only the 2 endpoints',
    g(t?.full),
    g(t?.agentTwoEndpoints),
    ratio(t?.full?.bestGbitPerSecond, t?.agentTwoEndpoints?.bestGbitPerSecond),
  ]);
  rows.push([
    '  agent with 2 endpoints vs empty host',
    g(t?.agentTwoEndpoints),
    g(t?.bare),
    ratio(t?.agentTwoEndpoints?.bestGbitPerSecond, t?.bare?.bestGbitPerSecond),
  ]);
  const text = table(['', 'agent', 'tools / reference', 'ratio'], rows);

  const verdict = (v: number | undefined, ok: (x: number) => boolean): string =>
    v === undefined || !Number.isFinite(v) ? 'not measured' : ok(v) ? 'met' : 'MISSED';
  const coldRatio = cs !== undefined && tools !== undefined ? cs.readyMs / tools.totalMs : undefined;
  const p99 = t1 === undefined ? undefined : t1.timedOut > 0 ? Infinity : t1.p99Ms;
  const peaks = [mem?.afterColdStart, mem?.afterRestart, mem?.afterAdds].flatMap((m) => (m === undefined ? [] : [m.vmHwmMiB]));
  const peak = peaks.length === 0 ? undefined : Math.max(...peaks);
  const tr = t?.full !== undefined && t.bare !== undefined ? t.full.bestGbitPerSecond / t.bare.bestGbitPerSecond : undefined;
  const targets = [
    `target cold start <= 1.5x the tools alone: ${coldRatio === undefined ? '-' : `${coldRatio.toFixed(2)}x`} -> ${verdict(coldRatio, (x) => x <= 1.5)}`,
    `target endpoint add p99 <= 150 ms: ${ms(p99)} -> ${p99 === Infinity ? 'MISSED (timeouts)' : verdict(p99, (x) => x <= 150)}`,
    `target throughput >= 0.9x an empty host: ${tr === undefined || !Number.isFinite(tr) ? '-' : `${tr.toFixed(2)}x`} -> ${verdict(tr, (x) => x >= 0.9)}`,
    `target memory after the adds <= 300 MiB: ${mib(mem?.afterAdds, 'vmRssMiB')} -> ${verdict(mem?.afterAdds?.vmRssMiB, (x) => x <= 300)}`,
    `target peak memory <= 450 MiB (cold start and restarted agent): ${peak === undefined ? '-' : `${peak} MiB`} -> ${verdict(peak, (x) => x <= 450)}`,
  ];
  const notes: string[] = [];
  const cpu = (label: string, c: CpuUse | undefined): void => {
    if (c !== undefined)
      notes.push(
        `${label}: ${int(c.wallMs)} ms wall; agent node ${int(c.agentNodeMs)} ms CPU + the commands it ran ${int(c.agentToolsMs)} ms CPU; other processes on the machine ${c.otherCores} cores${c.otherCores >= 0.2 ? ' (disturbed)' : ''}`,
      );
  };
  cpu('cold start to all status up', cs?.cpuToAllUp ?? cs?.cpuToReady);
  if (tools !== undefined) notes.push(`tools load: other processes ${tools.cpu.otherCores} cores${tools.cpu.otherCores >= 0.2 ? ' (disturbed)' : ''}`);
  cpu('restart to ready', rs?.cpuToReady);
  if (a !== undefined) {
    const nAdds = a.tapFirst.n + a.tapFirst.timedOut;
    cpu('adds (tap first, with the waits between them)', a.cpu);
    notes.push(
      `  per add: agent node ${int(a.cpu.agentNodeMs / Math.max(1, nAdds))} ms + commands ${int(a.cpu.agentToolsMs / Math.max(1, nAdds))} ms CPU; agent metrics over the phase: ${JSON.stringify(a.agentMetrics)}`,
    );
  }
  for (const [k, f] of Object.entries(t ?? {}) as [string, IperfFigures | undefined][]) {
    if (f !== undefined)
      notes.push(
        `iperf ${k}: ${f.runs.map((x) => `${x.gbitPerSecond} Gbit/s (machine ${x.machineCores} cores, the host's agent ${x.agentCores ?? '-'})`).join('; ')}${f.error === undefined ? '' : `; error: ${f.error}`}`,
      );
  }
  if (t?.full !== undefined) notes.push(`iperf full: VM taps at ${t.full.positions.map((x) => `${x.tap} from ${x.from}, to ${x.to}`).join('; ')}`);
  return { text, targets, notes };
}

/** What the agent programmed, counted per table and family, with the scenario's expectations. */
export function stateReport(d: Dump, sc: Scenario): { text: string; data: Record<string, unknown> } {
  const rows: string[][] = [];
  const tot = { v4c: 0, v4r: 0, v6c: 0, v6r: 0 };
  for (const tbl of TABLES) {
    const a = d.counts.v4[tbl];
    const b = d.counts.v6[tbl];
    tot.v4c += a?.chains ?? 0;
    tot.v4r += a?.rules ?? 0;
    tot.v6c += b?.chains ?? 0;
    tot.v6r += b?.rules ?? 0;
    rows.push([`${tbl}: chains / rules`, `${int(a?.chains ?? 0)} / ${int(a?.rules ?? 0)}`, `${int(b?.chains ?? 0)} / ${int(b?.rules ?? 0)}`]);
  }
  rows.push(['all tables', `${int(tot.v4c)} / ${int(tot.v4r)}`, `${int(tot.v6c)} / ${int(tot.v6r)}`]);
  const nft = d.nft.trim() !== '';
  const kinds4 = nft ? chainKindsNft(d.nft.split(/^table ip6 /m)[0] ?? '') : chainKinds(d.iptables, 'filter');
  const kinds6 = nft ? chainKindsNft(d.nft.split(/^table ip6 /m)[1] ?? '') : chainKinds(d.ip6tables, 'filter');
  for (const [k, v] of Object.entries(kinds4))
    rows.push([`  filter ${k}`, `${int(v.chains)} / ${int(v.rules)}`, `${int(kinds6[k]?.chains ?? 0)} / ${int(kinds6[k]?.rules ?? 0)}`]);
  const text = [
    table(['what the agent programmed', 'IPv4', 'IPv6'], rows),
    `${nft ? 'nft sets' : 'ipsets'}: ${int(d.counts.ipsets)} sets, ${int(d.counts.ipsetMembers)} members (largest ${int(d.counts.ipsetMembersPerSet.max)}, median ${int(d.counts.ipsetMembersPerSet.median)}); the scenario's ${int(sc.remoteGroupSets)} remote-group selectors match ${int(sc.expectedSetMembers)} endpoint addresses`,
    `routes: ${int(d.counts.routesV4)} IPv4 + ${int(d.counts.routesV6)} IPv6 (proto boot), ${int(d.counts.neighbours)} permanent neighbours; per-tap sysctl keys ${int(d.counts.sysctlKeys)}`,
    `ARCHITECTURE.md's Felix-shaped state: about 112k rules in 11k chains. Here: IPv4 ${int(tot.v4r)} rules in ${int(tot.v4c)} chains; IPv4 + IPv6 ${int(tot.v4r + tot.v6r)} rules in ${int(tot.v4c + tot.v6c)} chains.`,
  ].join('\n');
  return {
    text,
    data: {
      v4: d.counts.v4,
      v6: d.counts.v6,
      filterKindsV4: kinds4,
      filterKindsV6: kinds6,
      ipsets: d.counts.ipsets,
      ipsetMembers: d.counts.ipsetMembers,
      ipsetMembersPerSet: d.counts.ipsetMembersPerSet,
      routesV4: d.counts.routesV4,
      routesV6: d.counts.routesV6,
      neighbours: d.counts.neighbours,
      sysctlKeys: d.counts.sysctlKeys,
      totals: { v4Chains: tot.v4c, v4Rules: tot.v4r, v6Chains: tot.v6c, v6Rules: tot.v6r },
    },
  };
}
