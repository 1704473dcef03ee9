// The boot benchmark's output: machine info, the table (stdout), the target, and
// bench/results/boot-<timestamp>.json.
import { join } from 'node:path';
import { realExec, realFs } from '../../src/lib/index.js';
import { ms, ratio, table } from '../agent/report.js';
import { machineInfo as bgpMachineInfo, type BgpMachine } from '../bgp/report.js';
import { projectRoot } from '../project-root.js';
import type { BootFigures } from './boot.js';

export { workTree } from '../bgp/report.js';

export interface BootMachine extends BgpMachine {
  readonly dnsmasq: string;
  readonly busybox: string;
}

export async function machineInfo(): Promise<BootMachine> {
  const exec = realExec();
  const first = async (cmd: string, args: string[]): Promise<string> => {
    const r = await exec.run(cmd, args, { timeoutMs: 10_000 });
    return (`${r.stdout}\n${r.stderr}`.split('\n').find((l) => l.trim() !== '') ?? `unknown (${cmd} exited ${r.code ?? r.signal})`).trim();
  };
  return { ...(await bgpMachineInfo()), dnsmasq: await first('dnsmasq', ['--version']), busybox: await first('busybox', []) };
}

export interface Results {
  boot?: BootFigures;
  errors: string[];
}

const TARGET_MS = 1_000;

export function formatReport(r: Results): { text: string; targets: string[] } {
  const f = r.boot;
  const rows: string[][] = [];
  const n = f?.endpointsOnHost.toLocaleString('en-US') ?? '-';
  const pct = (s: { p50Ms: number; p90Ms: number; p99Ms: number } | undefined): string =>
    s === undefined ? '-' : `${ms(s.p50Ms)} / ${ms(s.p90Ms)} / ${ms(s.p99Ms)}`;
  const step = (label: string, key: string): void => {
    const s = f?.steps[key];
    rows.push([`    ${label}`, s === undefined || s.n === 0 ? '-' : `${ms(s.p50Ms)} / ${ms(s.p99Ms)}`, '', '']);
  };
  rows.push([
    `VM plugged -> ... on a host with ${n} endpoints (N=${f?.lease.n ?? 0} + ${f?.lease.failed ?? 0} failed)`,
    'brindle node',
    'dnsmasq by hand',
    'ratio',
  ]);
  rows.push(['plug -> DHCP lease (t1 - t0)  p50', ms(f?.lease.p50Ms), ms(f?.refLease.p50Ms), ratio(f?.lease.p50Ms, f?.refLease.p50Ms)]);
  rows.push(['  p90', ms(f?.lease.p90Ms), ms(f?.refLease.p90Ms), ratio(f?.lease.p90Ms, f?.refLease.p90Ms)]);
  rows.push(['  p99', ms(f?.lease.p99Ms), ms(f?.refLease.p99Ms), ratio(f?.lease.p99Ms, f?.refLease.p99Ms)]);
  rows.push(['  max', ms(f?.lease.maxMs), ms(f?.refLease.maxMs), '']);
  rows.push([
    '  rounds where udhcpc sent a 2nd DISCOVER (waited -T 1 s)',
    `${f?.retransmits ?? '-'} of ${f?.lease.n ?? '-'}`,
    `${f?.refRetransmits ?? '-'} of ${f?.refLease.n ?? '-'}`,
    '',
  ]);
  rows.push(['  rounds whose DISCOVER dnsmasq could not answer (MAC not loaded)', `${f?.firstDiscoverUnknown ?? '-'}`, '', '']);
  rows.push(['  without those rounds: p50 / p90 / p99', `${pct(f?.leaseNoRetransmit)} (N=${f?.leaseNoRetransmit.n ?? 0})`, '', '']);
  rows.push(['plug -> metadata answered (t2 - t0)  p50 / p90 / p99', pct(f?.metadata), '', '']);
  rows.push(['  max', ms(f?.metadata.maxMs), '', '']);
  rows.push(['steps from t0 (the tap appears), p50 / p99:', '', '', '']);
  step('the bind PUT returned (WorkloadEndpoint written; < 0: before t0)', 'wepWritten');
  step('udhcpc started (its deconfig hook began)', 'udhcpcStart');
  rows.push([
    '      reference',
    f?.steps['refUdhcpcStart'] === undefined ? '-' : `${ms(f.steps['refUdhcpcStart'].p50Ms)} / ${ms(f.steps['refUdhcpcStart'].p99Ms)}`,
    '',
    '',
  ]);
  step('its first DISCOVER sent (deconfig hook ended)', 'firstDiscoverSent');
  step('dnsmasq logged the first DISCOVER of the MAC', 'firstDiscoverSeen');
  step('brindle wrote the hosts file with the MAC', 'hostsWritten');
  step('dnsmasq logged re-reading it (SIGHUP)', 'dnsmasqReload');
  step('brindle node logged the apply (after the SIGHUP; whole ms)', 'applied');
  step('  reload minus first DISCOVER seen (> 0: the DISCOVER came first)', 'reloadMinusFirstDiscover');
  step('udhcpc start -> lease, rounds without a retransmit', 'leaseAfterUdhcpcStart');
  rows.push([
    '      reference, all rounds',
    f?.steps['refLeaseAfterUdhcpcStart'] === undefined
      ? '-'
      : `${ms(f.steps['refLeaseAfterUdhcpcStart'].p50Ms)} / ${ms(f.steps['refLeaseAfterUdhcpcStart'].p99Ms)}`,
    '',
    '',
  ]);
  step('the bound hook configured eth0', 'boundConfigured');
  step("the agent's route to the VM in the host's kernel", 'agentRoute');
  step('the metadata poller running in the VM', 'metadataPollerStart');
  step('lease -> metadata answered', 'metadataAfterLease');
  const text = table(['', '', '', ''], rows).split('\n').slice(2).join('\n');

  const p99 = f === undefined ? undefined : f.lease.failed > 0 ? Infinity : f.lease.p99Ms;
  const verdict = p99 === undefined ? 'not measured' : p99 <= TARGET_MS ? 'met' : 'MISSED';
  const targets = [
    `target plug -> lease p99 <= 1 s on a host with ${n} endpoints: ${p99 === Infinity ? `${f?.lease.failed ?? 0} VMs without a lease` : ms(p99)} -> ${verdict}`,
  ];
  if (f !== undefined && f.retransmits > 0) {
    targets.push(`  ${f.retransmits} of ${f.lease.n} rounds waited for udhcpc's second DISCOVER; without them p99 ${ms(f.leaseNoRetransmit.p99Ms)}`);
  }
  return { text, targets };
}

/** Writes bench/results/boot-<timestamp>.json; returns its path. */
export async function writeResults(date: string, data: unknown): Promise<string> {
  const fs = realFs();
  const dir = join(projectRoot(), 'bench', 'results');
  await fs.ensureDir(dir);
  const path = join(dir, `boot-${date.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-')}.json`);
  const json = JSON.stringify(data, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2);
  await fs.writeTextAtomic(path, `${json}\n`);
  return path;
}
