// The boot benchmark: a VM plugged into a compute host that already carries 1,000 endpoints ->
// its DHCP lease, and -> its own metadata answered at 169.254.169.254, p50/p90/p99 over 60 VMs
// booted one at a time as bootVm with `dhcp: true` does (real brindle api, brindle node with
// its dnsmasq, brindle metadata, busybox udhcpc in the VM); next to each, the same DHCP exchange
// against a dnsmasq started by hand with the VM's MAC loaded before plugging (the floor).
// Target: plug -> lease p99 <= 1 s.
// Everything runs in the lab's network namespaces (`bl…-*`), all removed at the end, also on
// Ctrl-C; processes are stopped by PID.
// Prints a table on stdout (progress on stderr) and writes bench/results/boot-<timestamp>.json.
// Run from the project root after building, as root:
//   node dist/bench/boot/run.js [--quick] [--rounds N] [--endpoints N] [--out PATH] [--diagnose DIR]
import { loadavg } from 'node:os';
import { AbortedError, realFs } from '../../src/lib/index.js';
import { progress } from '../datastore/workload.js';
import { World } from '../agent/world.js';
import { measureBoot } from './boot.js';
import { formatReport, machineInfo, workTree, writeResults, type Results } from './report.js';

const QUICK = process.argv.includes('--quick');
const flag = (name: string): number | undefined => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : Number(process.argv[i + 1]);
};
const ROUNDS = flag('--rounds');
const ENDPOINTS = flag('--endpoints');
/** `--out PATH`: also write the JSON there (for trial runs, which write nothing to bench/results). */
const OUT = ((): string | undefined => {
  const i = process.argv.indexOf('--out');
  return i < 0 ? undefined : process.argv[i + 1];
})();
/** `--diagnose DIR`: strace brindle node's commands during the rounds (see BootParams). */
const DIAGNOSE = ((): string | undefined => {
  const i = process.argv.indexOf('--diagnose');
  return i < 0 ? undefined : process.argv[i + 1];
})();
/** Not the issue's figure (fewer endpoints or rounds, or diagnostics): no results file. */
const TRIAL = QUICK || DIAGNOSE !== undefined || (ROUNDS !== undefined && ROUNDS < 50) || (ENDPOINTS !== undefined && ENDPOINTS < 1_000);

export const PARAMS = {
  quick: QUICK,
  boot: {
    endpoints: ENDPOINTS ?? (QUICK ? 100 : 1_000),
    rounds: ROUNDS ?? (QUICK ? 10 : 60),
    warmup: 2,
    fillInFlight: 16,
    metadataPollMs: 20,
    roundTimeoutMs: 15_000,
    settleMs: 300,
    fillTimeoutMs: 180_000,
    ...(DIAGNOSE === undefined ? {} : { diagnoseDir: DIAGNOSE }),
  },
};

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the boot benchmark makes network namespaces: run it as root');
  const date = new Date().toISOString();
  const started = performance.now();
  const brindle = await workTree();
  const machine = await machineInfo();
  const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
  progress(
    'bench',
    `${machine.nproc} cores, Linux ${machine.kernel}, ${machine.dnsmasq}; brindle ${brindle.commit}${brindle.dirty ? ` + ${brindle.dirtyFiles.length} uncommitted file(s) in src/ and bench/` : ''}; load average ${loadAtStart.join(' ')}${(loadAtStart[0] ?? 0) > 0.5 ? ' -- the machine is busy; figures will be disturbed' : ''}`,
  );
  const r: Results = { errors: [] };
  const world = new World();
  try {
    progress('bench', 'boot: starting');
    r.boot = await measureBoot(world, PARAMS.boot);
  } catch (err) {
    if (err instanceof AbortedError) throw err;
    const why = err instanceof Error ? (err.stack ?? err.message) : String(err);
    r.errors.push(`boot: ${why}`);
    progress('bench', `boot FAILED: ${why}`);
    process.exitCode = 1;
  } finally {
    progress('cleanup', 'stopping what is left and removing the namespaces and temp directories');
    await world.destroy();
  }
  const loadAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  const { text, targets } = formatReport(r);
  const out = process.stdout;
  out.write(`\nBoot benchmark, ${date}\n`);
  out.write(
    `${machine.nproc} x ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB RAM, Linux ${machine.kernel}, ${machine.dnsmasq.replace(/ Copyright.*/, '')}, ${machine.busybox.replace(/ multi-call.*/, '')}, ${machine.iproute2}, node ${machine.node}\n`,
  );
  out.write(
    `brindle ${brindle.commit}${brindle.dirty ? ` + ${brindle.dirtyFiles.length} uncommitted file(s) in src/ and bench/` : ''}; load average (1, 5, 15 min) at start ${loadAtStart.join(' ')}, at end ${loadAtEnd.join(' ')}\n\n`,
  );
  out.write(`${text}\n\n${targets.join('\n')}\n`);
  if (r.boot !== undefined) {
    const d = r.boot.dnsmasq;
    out.write(
      `brindle's dnsmasq pid ${d.pid} at the start, ${d.pidAtEnd ?? '-'} at the end${d.pid === d.pidAtEnd ? ' (reloaded only, never restarted)' : ''}; setup ${Object.entries(
        r.boot.setup,
      )
        .map(([k, v]) => `${k.replace(/Ms$/, '')} ${(v / 1000).toFixed(1)} s`)
        .join(', ')}\n`,
    );
  }
  for (const e of r.errors) out.write(`\nfailed: ${e.split('\n')[0] ?? ''}\n`);
  const data = {
    date,
    durationSeconds: Math.round((performance.now() - started) / 1000),
    brindle,
    machine: { ...machine, loadAverage: { start: loadAtStart, end: loadAtEnd } },
    parameters: PARAMS,
    results: r,
    targets,
    table: text.split('\n'),
  };
  if (OUT !== undefined) {
    await realFs().writeTextAtomic(OUT, `${JSON.stringify(data, null, 2)}\n`);
    out.write(`figures written to ${OUT}\n`);
  }
  if (TRIAL) {
    out.write('trial run (--quick, --diagnose, or fewer than 50 rounds or 1,000 endpoints): no results file in bench/results\n');
    return;
  }
  out.write(`figures written to ${await writeResults(date, data)}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof AbortedError) process.stderr.write('boot benchmark stopped; nothing written\n');
  else process.stderr.write(`boot benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
