// The BGP benchmark's output: machine info, the table (stdout), the targets, and
// bench/results/bgp-<timestamp>.json.
import { join } from 'node:path';
import { realExec, realFs } from '../../src/lib/index.js';
import { machineInfo as datastoreMachineInfo, type Machine } from '../datastore/report.js';
import { ms, ratio, table } from '../agent/report.js';
import { projectRoot } from '../project-root.js';
import type { ConvFigures, Leg, Rep } from './convergence.js';
import type { ReachFigures } from './reachability.js';

export interface BgpMachine extends Omit<Machine, 'etcd'> {
  readonly kernel: string;
  readonly nproc: string;
  readonly bird: string;
  readonly iproute2: string;
  readonly ping: string;
}

export async function machineInfo(): Promise<BgpMachine> {
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
    bird: await first('bird', ['--version']),
    iproute2: await first('ip', ['-V']),
    ping: await first('ping', ['-V']),
  };
}

export { workTree } from '../work-tree.js';

export interface Results {
  reach?: ReachFigures;
  conv?: ConvFigures;
  errors: string[];
}

const min = (xs: readonly (number | undefined)[]): number | undefined => {
  const d = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  return d.length === 0 ? undefined : Math.min(...d);
};
const all = (xs: readonly (number | undefined)[]): string => xs.map((x) => (x === undefined ? '-' : Math.round(x).toString())).join(' / ');

export function formatReport(r: Results, p: { rounds: number; routes: number; reps: number }): { text: string; targets: string[] } {
  const rows: string[][] = [];
  const f = r.reach;
  rows.push([`1. port bound to host 1 -> its VM answers ping (N=${f?.crossHost.n ?? 0} rounds)`, 'from host 2', 'from host 1', 'ratio']);
  rows.push(['  p50', ms(f?.crossHost.p50Ms), ms(f?.sameHost.p50Ms), ratio(f?.crossHost.p50Ms, f?.sameHost.p50Ms)]);
  rows.push(['  p90', ms(f?.crossHost.p90Ms), ms(f?.sameHost.p90Ms), ratio(f?.crossHost.p90Ms, f?.sameHost.p90Ms)]);
  rows.push(['  p99', ms(f?.crossHost.p99Ms), ms(f?.sameHost.p99Ms), ratio(f?.crossHost.p99Ms, f?.sameHost.p99Ms)]);
  rows.push(['  no reply within the timeout', String(f?.crossHost.timedOut ?? '-'), String(f?.sameHost.timedOut ?? '-'), '']);
  rows.push(['  per round, host 2 minus host 1: p50 / p99', `${ms(f?.crossMinusSame.p50Ms)} / ${ms(f?.crossMinusSame.p99Ms)}`, '', '']);
  rows.push(['  steps, p50 / p99:', '', '', '']);
  rows.push(['    (before t0) the bind PUT', `${ms(f?.bindPut.p50Ms)} / ${ms(f?.bindPut.p99Ms)}`, '', '']);
  rows.push(['    t0 -> VM plugged (read back, netns, veth, addresses)', `${ms(f?.plug.p50Ms)} / ${ms(f?.plug.p99Ms)}`, '', '']);
  rows.push(["    t0 -> the agent's route in host 1's kernel", `${ms(f?.host1Route.p50Ms)} / ${ms(f?.host1Route.p99Ms)}`, '', '']);
  rows.push(["    host 1's route -> BIRD's route in host 2's kernel", `${ms(f?.bgpHop.p50Ms)} / ${ms(f?.bgpHop.p99Ms)}`, '', '']);
  rows.push(["    host 2's route -> first reply on host 2", `${ms(f?.afterHost2Route.p50Ms)} / ${ms(f?.afterHost2Route.p99Ms)}`, '', '']);
  rows.push(['  VM deleted -> host 2 dropped the route: p50 / p99', `${ms(f?.withdraw.p50Ms)} / ${ms(f?.withdraw.p99Ms)}`, '', '']);

  const c = r.conv;
  const reps: readonly Rep[] = c?.reps ?? [];
  const best = (pick: (x: Rep) => number | undefined): number | undefined => min(reps.map(pick));
  const oursLoad = best((x) => x.ours.load.allMs);
  const aloneLoad = best((x) => x.birdAlone.load.allMs);
  const oursDel = best((x) => x.ours.withdraw.allMs);
  const aloneDel = best((x) => x.birdAlone.withdraw.allMs);
  const tail = (l: Leg): number => l.allMs - l.commandMs;
  const sessLoad = best((x) => x.session.load.allMs);
  const sessDrop = best((x) => x.session.drop.allMs);
  const n = p.routes.toLocaleString('en-US');
  rows.push([`2. ${n} /32 routes announced by one host -> installed in its peer's kernel, best of ${p.reps}`, 'ours', 'BIRD alone', 'ratio']);
  rows.push([
    "  PRIMARY: B's session Established -> all in B's kernel / configure -> all in the kernel",
    ms(sessLoad),
    ms(aloneLoad),
    ratio(sessLoad, aloneLoad),
  ]);
  rows.push(['    every repetition', all(reps.map((x) => x.session.load.allMs)), all(reps.map((x) => x.birdAlone.load.allMs)), '']);
  rows.push(['    -> the first in the kernel, best', ms(best((x) => x.session.load.firstMs)), ms(best((x) => x.birdAlone.load.firstMs)), '']);
  rows.push([
    '    Established seen within a window of (t0 is its start), each rep',
    reps.map((x) => x.session.establishedWindowMs.toFixed(1)).join(' / '),
    '',
    '',
  ]);
  rows.push(['    (apart) enable on B -> Established, each rep', reps.map((x) => ms(x.session.load.commandMs)).join(' / '), '', '']);
  const cpu = (l: Leg): string =>
    Object.values(l.birdCpuMs)
      .map((v) => String(v))
      .join(' + ');
  rows.push([
    '    BIRD CPU ms, enable -> all there (A + B / alone), each rep',
    reps.map((x) => cpu(x.session.load)).join(', '),
    reps.map((x) => cpu(x.birdAlone.load)).join(', '),
    '',
  ]);
  rows.push([
    "    (before) A's batch, session down; batch start -> A's BIRD has all, best",
    `${ms(best((x) => x.session.aBatchMs))}; ${ms(best((x) => x.session.aLearnedMs))}`,
    '',
    '',
  ]);
  rows.push(["  session disabled on B -> none in B's kernel / configure without -> none", ms(sessDrop), ms(aloneDel), ratio(sessDrop, aloneDel)]);
  rows.push(['    every repetition', all(reps.map((x) => x.session.drop.allMs)), all(reps.map((x) => x.birdAlone.withdraw.allMs)), '']);
  rows.push(["  secondary, includes the agent's ip -batch: batch start in A -> all in B", ms(oursLoad), ms(aloneLoad), ratio(oursLoad, aloneLoad)]);
  rows.push(['    every repetition', all(reps.map((x) => x.ours.load.allMs)), all(reps.map((x) => x.birdAlone.load.allMs)), '']);
  rows.push(['    t0 -> the first in the kernel, best', ms(best((x) => x.ours.load.firstMs)), ms(best((x) => x.birdAlone.load.firstMs)), '']);
  rows.push(['    the command: ip -batch in A / configure, best', ms(best((x) => x.ours.load.commandMs)), ms(best((x) => x.birdAlone.load.commandMs)), '']);
  rows.push(['    after the batch exited, until all in B (<= 0: before), each rep', reps.map((x) => tail(x.ours.load).toFixed(1)).join(' / '), '', '']);
  rows.push(['    the same ip -batch with no BIRD listening, best', ms(best((x) => x.toolsAlone.addMs)), '', '']);
  rows.push(["    the same ip -batch in A with B's BIRD stopped, best", ms(min((c?.batchWithOnlyA ?? []).map((x) => x.addMs))), '', '']);
  rows.push([
    '    BIRD CPU ms until all there (A + B / alone), each rep',
    reps.map((x) => cpu(x.ours.load)).join(', '),
    reps.map((x) => cpu(x.birdAlone.load)).join(', '),
    '',
  ]);
  rows.push([
    '    machine cores busy meanwhile, each rep',
    reps.map((x) => x.ours.load.machineCores.toFixed(2)).join(', '),
    reps.map((x) => x.birdAlone.load.machineCores.toFixed(2)).join(', '),
    '',
  ]);
  rows.push(['  secondary: batch of deletions in A -> none in B', ms(oursDel), ms(aloneDel), ratio(oursDel, aloneDel)]);
  rows.push(['    every repetition', all(reps.map((x) => x.ours.withdraw.allMs)), all(reps.map((x) => x.birdAlone.withdraw.allMs)), '']);
  rows.push(['    the deletion batch: in A / with no BIRD, best', ms(best((x) => x.ours.withdraw.commandMs)), ms(best((x) => x.toolsAlone.delMs)), '']);
  const text = table(['', '', '', ''], rows).split('\n').slice(2).join('\n');

  const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? 'met' : 'MISSED');
  const p99 = f === undefined ? undefined : f.crossHost.timedOut > 0 ? Infinity : f.crossHost.p99Ms;
  const conv = sessLoad === undefined || aloneLoad === undefined ? undefined : sessLoad / aloneLoad;
  const convE2e = oursLoad === undefined || aloneLoad === undefined ? undefined : oursLoad / aloneLoad;
  const targets = [
    `target bound -> reachable from another host p99 <= 1 s: ${p99 === Infinity ? 'timeouts' : ms(p99)} -> ${verdict(p99 === undefined ? undefined : p99 <= 1000)}`,
    `target ${n} routes announced by one host installed on its peer <= 1.5x BIRD alone loading them: ${conv === undefined ? '-' : `${conv.toFixed(2)}x`} -> ${verdict(conv === undefined ? undefined : conv <= 1.5)}`,
    `  (secondary, includes the agent's ip -batch: ${convE2e === undefined ? '-' : `${convE2e.toFixed(2)}x`})`,
  ];
  return { text, targets };
}

/** Writes bench/results/bgp-<timestamp>.json; returns its path. */
export async function writeResults(date: string, data: unknown): Promise<string> {
  const fs = realFs();
  const dir = join(projectRoot(), 'bench', 'results');
  await fs.ensureDir(dir);
  const path = join(dir, `bgp-${date.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.json`);
  const json = JSON.stringify(data, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
  await fs.writeTextAtomic(path, `${json}\n`);
  return path;
}
