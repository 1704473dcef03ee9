// The BGP benchmark, two figures in one run:
//   1. a port bound to host 1 -> its VM answers a VM on host 2 (routes over BGP), p50/p99 over
//      50 rounds, next to the same from a VM on host 1 (no BGP involved): a real lab (src/lab)
//      with brindle api and brindle node + BIRD on two compute hosts in a full mesh;
//   2. 5,000 /32 routes announced by one host (already in its BIRD) -> installed in its peer's
//      kernel once their session comes up, over Brindle's BIRD configuration, against BIRD alone
//      loading the same 5,000 static routes into a kernel; best of 3; and, secondary, the same
//      end to end from the agent's `ip -batch` in the first host, and the withdrawals.
// Everything runs in network namespaces (the lab's `bl…-*`, and `bbabgp*-<random>`), all removed
// at the end, also on Ctrl-C; processes are stopped by PID.
// Prints a table on stdout (progress on stderr) and writes bench/results/bgp-<timestamp>.json.
// Run from the project root after building, as root:
//   node dist/bench/bgp/run.js [--quick] [--vm-arp-retrans-ms N]
import { loadavg } from 'node:os';
import { AbortedError } from '../../src/lib/index.js';
import { progress } from '../datastore/workload.js';
import { World } from '../agent/world.js';
import { measureConvergence } from './convergence.js';
import { measureReachability } from './reachability.js';
import { formatReport, machineInfo, workTree, writeResults, type Results } from './report.js';

const QUICK = process.argv.includes('--quick');
/** Diagnostics, not for the record (no results file): see ReachParams.vmArpRetransMs. */
const ARP_RETRANS = ((): number | undefined => {
  const i = process.argv.indexOf('--vm-arp-retrans-ms');
  return i < 0 ? undefined : Number(process.argv[i + 1]);
})();

export const PARAMS = {
  quick: QUICK,
  reach: {
    rounds: QUICK ? 10 : 50,
    warmup: 2,
    pingIntervalSeconds: 0.002,
    roundTimeoutMs: 15_000,
    withdrawTimeoutMs: 15_000,
    ...(ARP_RETRANS === undefined ? {} : { vmArpRetransMs: ARP_RETRANS }),
  },
  conv: { routes: 5_000, reps: QUICK ? 1 : 3, fibPollMs: 2, timeoutMs: 60_000, settleMs: 1_000 },
};

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the BGP benchmark makes network namespaces: run it as root');
  const date = new Date().toISOString();
  const started = performance.now();
  const brindle = await workTree();
  const machine = await machineInfo();
  const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
  progress(
    'bench',
    `${machine.nproc} cores, Linux ${machine.kernel}, ${machine.bird}; brindle ${brindle.commit}${brindle.dirty ? ` + ${brindle.dirtyFiles.length} uncommitted file(s) in src/ and bench/` : ''}; load average ${loadAtStart.join(' ')}${(loadAtStart[0] ?? 0) > 0.5 ? ' -- the machine is busy; figures will be disturbed' : ''}`,
  );
  const r: Results = { errors: [] };
  const world = new World();
  try {
    for (const [name, run] of [
      ['reachability', async () => (r.reach = await measureReachability(world, PARAMS.reach))],
      ['convergence', async () => (r.conv = await measureConvergence(world, PARAMS.conv))],
    ] as const) {
      try {
        progress('bench', `${name}: starting`);
        await run();
      } catch (err) {
        if (err instanceof AbortedError) throw err;
        const why = err instanceof Error ? (err.stack ?? err.message) : String(err);
        r.errors.push(`${name}: ${why}`);
        progress('bench', `${name} FAILED: ${why}`);
        process.exitCode = 1;
      }
    }
  } finally {
    progress('cleanup', 'stopping what is left and removing the namespaces and temp directories');
    await world.destroy();
  }
  const loadAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  const { text, targets } = formatReport(r, { rounds: PARAMS.reach.rounds, routes: PARAMS.conv.routes, reps: PARAMS.conv.reps });
  const out = process.stdout;
  out.write(`\nBGP benchmark, ${date}\n`);
  out.write(
    `${machine.nproc} x ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB RAM, Linux ${machine.kernel}, ${machine.bird}, ${machine.iproute2}, node ${machine.node}\n`,
  );
  out.write(
    `brindle ${brindle.commit}${brindle.dirty ? ` + ${brindle.dirtyFiles.length} uncommitted file(s) in src/ and bench/` : ''}; load average (1, 5, 15 min) at start ${loadAtStart.join(' ')}, at end ${loadAtEnd.join(' ')}\n\n`,
  );
  out.write(`${text}\n\n${targets.join('\n')}\n`);
  if (r.conv !== undefined) out.write(`BIRD log lines about lost netlink messages: ${JSON.stringify(r.conv.netlinkOverflows)}\n`);
  for (const e of r.errors) out.write(`\nfailed: ${e.split('\n')[0] ?? ''}\n`);
  if (QUICK || ARP_RETRANS !== undefined) {
    out.write(`${QUICK ? '--quick: trial run' : `--vm-arp-retrans-ms ${ARP_RETRANS}: diagnostic run`}, no results file written\n`);
    return;
  }
  const path = await writeResults(date, {
    date,
    durationSeconds: Math.round((performance.now() - started) / 1000),
    brindle,
    machine: { ...machine, loadAverage: { start: loadAtStart, end: loadAtEnd } },
    parameters: PARAMS,
    results: r,
    targets,
    table: text.split('\n'),
  });
  out.write(`figures written to ${path}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof AbortedError) process.stderr.write('BGP benchmark stopped; nothing written\n');
  else process.stderr.write(`BGP benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
