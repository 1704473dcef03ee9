// The agent benchmark: `brindle node` on a host namespace with a Felix-sized state (5,000 local
// endpoints with real veth taps, 500 security groups with 2,000 ingress rules, 50,000 remote
// endpoints feeding the remote-group IP sets), measured next to the kernel tools alone:
//   1. cold start to programmed (readiness, and every endpoint status "up"); then, with the agent
//      stopped, the same final state loaded into a fresh namespace by ipset restore +
//      iptables-restore + ip6tables-restore + ip -batch, the read-back costs, and the eight
//      per-table restores the agent runs, at once and one by one; then a restart on the
//      programmed dataplane;
//   2. one endpoint added -> its status up, p50/p99, next to iptables-restore --noflush (and
//      ipset, ip, sysctl) of one endpoint's worth alone;
//   3. the agent's memory;
//   4. iperf3 between two VMs on an empty host and on the full host (worst dispatch position).
// Everything happens in namespaces named bba*-<random>, removed at the end (also on Ctrl-C).
// Prints a table on stdout (progress on stderr) and writes bench/results/agent-<timestamp>.json.
// Run from the project root after building, as root:
//   node dist/bench/agent/run.js [--dataplane nft|iptables] [--quick] [--diagnose DIR]
import { appendFile, readdir, stat } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { openDatastore } from '../../src/datastore/index.js';
import type { KvStore } from '../../src/datastore/index.js';
import { AbortedError, realExec, realFs } from '../../src/lib/index.js';
import { checkStop, progress } from '../datastore/workload.js';
import { addEndpointFirst, addTapFirst } from './adds.js';
import { memory, type AgentProcess } from './agent-process.js';
import { between, snapshot } from './cpu.js';
import { addVethPairs, dumpState, loadWithTools, perTableRestore } from './kernel.js';
import { metricsDelta, oneEndpointTools, oneEndpointToolsNft, readBack, startAgent, throughput } from './phases.js';
import { int } from './int.js';
import { formatReport, machineInfo, ms, stateReport, writeResults, type Results } from './report.js';
import { buildScenario, prng, type Scenario } from './scenario.js';
import { World } from './world.js';

const QUICK = process.argv.includes('--quick');
/**
 * `--diagnose DIR`: a run for finding where the time goes, not for the record (no results file):
 * the main agent writes a V8 CPU profile into DIR when it stops, every `ip` command it runs goes
 * through a timing wrapper that logs start, end, exit status and arguments to DIR/commands.log
 * (with the benchmark's phase marks), and the dumped state is kept in DIR.
 */
const DIAGNOSE = ((): string | undefined => {
  const i = process.argv.indexOf('--diagnose');
  return i < 0 ? undefined : process.argv[i + 1];
})();
/** `--dataplane nft|iptables`: which dataplane the agents run (default nft, as `brindle node`'s). */
const DATAPLANE = ((): 'nft' | 'iptables' => {
  const i = process.argv.indexOf('--dataplane');
  const v = i < 0 ? 'nft' : process.argv[i + 1];
  if (v !== 'nft' && v !== 'iptables') throw new Error(`--dataplane: nft or iptables, not ${v ?? '(missing)'}`);
  return v;
})();
// Every agent this run spawns inherits it.
process.env['BRINDLE_DATAPLANE'] = DATAPLANE;
const n = (count: number): number => (QUICK ? Math.max(1, Math.round(count / 10)) : count);

export const PARAMS = {
  quick: QUICK,
  dataplane: DATAPLANE,
  scenario: {
    localEndpoints: n(5_000),
    securityGroups: n(500),
    ingressRules: n(2_000),
    remoteEndpoints: n(50_000),
    remoteGroupTargets: n(300),
    remoteHosts: 100,
    seed: 20261123,
  },
  hostname: 'bench-host',
  txnSize: 1_000,
  readinessPollMs: 50,
  startTimeoutMs: 300_000,
  allUpTimeoutMs: 180_000,
  adds: { tapFirst: QUICK ? 10 : 60, endpointFirst: QUICK ? 5 : 20, settleMs: 5_000, endpointFirstSettleMs: 200, pollMs: 5, timeoutMs: 15_000, ipBase: 200 },
  toolReps: 20,
  readBackReps: 3,
  iperf: { seconds: 5, runs: 2, port: 5201 },
};

/** The `ip` timing wrapper of `--diagnose`; returns the directory to put first on the agent's PATH. */
async function diagnoseWrapper(dir: string): Promise<string> {
  const fs = realFs();
  const bin = join(dir, 'bin');
  await fs.ensureDir(bin);
  const log = join(dir, 'commands.log');
  const script = [
    '#!/bin/bash',
    '# bench/agent --diagnose: times every `ip` command the agent runs (ns since the epoch).',
    "# `ip monitor` runs until killed: exec it, so the agent's SIGTERM reaches it.",
    'case " $* " in *" monitor "*) exec /usr/sbin/ip "$@";; esac',
    's=$(date +%s%N)',
    '/usr/sbin/ip "$@"',
    'rc=$?',
    'e=$(date +%s%N)',
    'a="$*"',
    `printf '%s %s %s %.240s\\n' "$s" "$e" "$rc" "$a" >> ${JSON.stringify(log)}`,
    'exit $rc',
    '',
  ].join('\n');
  await fs.writeTextAtomic(join(bin, 'ip'), script);
  await realExec().run('chmod', ['0755', join(bin, 'ip')]);
  return bin;
}

/** `--diagnose`: has the agent write a heap snapshot into DIR and waits until it is written. */
async function heapSnapshot(agent: AgentProcess, when: string): Promise<void> {
  if (DIAGNOSE === undefined) return;
  const dir = DIAGNOSE;
  const count = async (): Promise<string[]> => (await readdir(dir)).filter((f) => f.endsWith('.heapsnapshot'));
  const before = (await count()).length;
  agent.signal('SIGUSR2');
  progress('diagnose', `heap snapshot ${when}: writing into ${dir}`);
  // Node writes the file under its final name as it goes: wait for its size to stay put.
  let size = -1;
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const files = await count();
    if (files.length <= before) continue;
    const last = files.sort().at(-1) ?? '';
    const now = (await stat(join(dir, last))).size;
    if (now === size && now > 0) return;
    size = now;
  }
}

async function mark(label: string): Promise<void> {
  if (DIAGNOSE === undefined) return;
  await appendFile(join(DIAGNOSE, 'commands.log'), `${BigInt(Date.now()) * 1_000_000n} MARK ${label}\n`);
}

async function loadDatastore(kv: KvStore, sc: Scenario): Promise<number> {
  const t0 = performance.now();
  const all = [...sc.policies, ...sc.local, ...sc.remote];
  for (let i = 0; i < all.length; i += PARAMS.txnSize) {
    checkStop();
    await kv.txn({ compare: [], success: all.slice(i, i + PARAMS.txnSize).map((x) => ({ op: 'put' as const, key: x.key, value: x.value })) });
  }
  return performance.now() - t0;
}

async function workTree(): Promise<string> {
  const exec = realExec();
  const commit = (await exec.run('git', ['rev-parse', '--short', 'HEAD'], { timeoutMs: 5_000 })).stdout.trim();
  const dirty = (await exec.run('git', ['status', '--porcelain', 'src'], { timeoutMs: 5_000 })).stdout.split('\n').filter((l) => l.trim() !== '').length;
  return `${commit === '' ? 'unknown commit' : commit}${dirty > 0 ? ` + ${dirty} uncommitted file(s) in src/` : ''}`;
}

async function measure(world: World, r: Results, onState: (text: string) => void): Promise<void> {
  let kv: KvStore | undefined;
  let agent: AgentProcess | undefined;
  try {
    const sc = buildScenario(PARAMS.scenario, PARAMS.hostname);
    r.scenario = {
      ruleMix: sc.ruleMix,
      remoteGroupSets: sc.remoteGroupSets,
      expectedSetMembers: sc.expectedSetMembers,
      localSgMemberships: sc.localSgMemberships,
    };
    progress(
      'setup',
      `scenario: ${int(sc.policies.length)} policies (${JSON.stringify(sc.ruleMix)}), ${int(sc.local.length)} local and ${int(sc.remote.length)} remote endpoints; ${int(sc.remoteGroupSets)} remote-group sets expected to hold ${int(sc.expectedSetMembers)} members`,
    );
    const dir = await world.tempDir('brindle-bench-agent-');
    const storePath = join(dir, 'store');
    kv = await openDatastore({ kind: 'embedded', path: storePath });
    const loadMs = await loadDatastore(kv, sc);
    progress('setup', `datastore ${storePath}: ${int(sc.policies.length + sc.local.length + sc.remote.length)} keys in ${(loadMs / 1000).toFixed(1)} s`);
    const host = await world.hostNetns('h');
    const hostVethMs = await addVethPairs(host, sc.local, 'setup');
    progress('setup', `host namespace ${host.name}: ${int(sc.local.length)} veth taps up in ${(hostVethMs / 1000).toFixed(1)} s`);
    const fresh = await world.hostNetns('t');
    const freshVethMs = await addVethPairs(fresh, sc.local, 'setup');
    progress('setup', `tools namespace ${fresh.name}: the same ${int(sc.local.length)} taps in ${(freshVethMs / 1000).toFixed(1)} s`);
    r.setup = { datastoreLoadMs: Math.round(loadMs), hostVethMs: Math.round(hostVethMs), toolsVethMs: Math.round(freshVethMs) };
    const startOpts = { pollMs: PARAMS.readinessPollMs, timeoutMs: PARAMS.startTimeoutMs, statusTimeoutMs: PARAMS.allUpTimeoutMs };

    // 1. Cold start. Deleting namespaces with thousands of veths (an earlier run's, or a test's)
    // keeps kernel workers busy for a minute or more: wait for the machine to go quiet first.
    await waitForQuiet();
    progress('cold', 'starting the agent on the pre-populated datastore');
    const diag = DIAGNOSE === undefined ? {} : { cpuProfDir: DIAGNOSE, heapSnapshotDir: DIAGNOSE, pathPrefix: await diagnoseWrapper(DIAGNOSE) };
    await mark('cold start');
    const cold = await startAgent(
      world,
      kv,
      { tag: 'cold', storePath, hostname: PARAMS.hostname, netns: host.name, ...diag },
      { ...startOpts, wantStatuses: sc.local.length },
    );
    agent = cold.agent;
    r.coldStart = cold.figures;
    const coldMemory = await memory(agent);
    await heapSnapshot(agent, 'after the cold start');
    r.memory = { afterColdStart: coldMemory };
    progress('cold', `agent VmRSS ${coldMemory.vmRssMiB} MiB (peak ${coldMemory.vmHwmMiB} MiB); dumping the programmed state`);
    await mark('dump');
    const dump = await dumpState(
      host,
      sc.local.map((e) => e.tap),
      DATAPLANE,
    );
    if (DIAGNOSE !== undefined) {
      const fs = realFs();
      await fs.writeTextAtomic(join(DIAGNOSE, 'brindle.nft'), dump.nft);
      await fs.writeTextAtomic(join(DIAGNOSE, 'iptables.save'), dump.iptables);
      await fs.writeTextAtomic(join(DIAGNOSE, 'ip6tables.save'), dump.ip6tables);
      await fs.writeTextAtomic(join(DIAGNOSE, 'ipset.save'), dump.ipset);
      await fs.writeTextAtomic(join(DIAGNOSE, 'ip.batch'), `${dump.ipBatch.join('\n')}\n`);
      await fs.writeTextAtomic(join(DIAGNOSE, 'sysctl.conf'), `${dump.sysctl.join('\n')}\n`);
    }
    const state = stateReport(dump, sc);
    r.state = state.data;
    onState(state.text);
    process.stderr.write(`${state.text}\n`);
    // The kernel tools measure best with no agent around (its periodic refresh reads every
    // table back); stopping it leaves the dataplane as it is.
    progress('cold', 'stopping the agent (the dataplane stays) while the kernel tools are timed');
    await mark('agent stopped');
    const stopped = await agent.stop();
    if (DIAGNOSE !== undefined) await agent.writeLog(join(DIAGNOSE, 'agent-cold.log'));
    r.coldStop = { ms: stopped.ms, killed: stopped.killed, exit: `${stopped.exit.code ?? stopped.exit.signal}` };
    progress('cold', `agent stopped in ${ms(stopped.ms)} (exit ${r.coldStop.exit}${stopped.killed ? ', after SIGKILL' : ''})`);
    agent = undefined;

    progress('tools', `loading the same state into ${fresh.name} with the kernel tools`);
    const t0 = await snapshot(undefined);
    const tools = await loadWithTools(fresh, dump);
    r.tools = { ...tools, cpu: between(t0, await snapshot(undefined)) };
    progress(
      'tools',
      `${DATAPLANE === 'nft' ? `nft -f ${ms(tools.nftMs)}` : `ipset ${ms(tools.ipsetRestoreMs)}, iptables-restore ${ms(tools.iptablesRestoreMs)}, ip6tables-restore ${ms(tools.ip6tablesRestoreMs)}`}, ip -batch ${ms(tools.ipBatchMs)} = ${ms(tools.totalMs)} (sysctl -p ${ms(tools.sysctlMs)}); other processes ${r.tools.cpu.otherCores} cores`,
    );
    const check = DATAPLANE === 'nft' ? await fresh.must('nft', ['list', 'table', 'ip', 'brindle']) : await fresh.must('iptables-save', ['-t', 'filter']);
    if (!check.includes(`cali-tw-${sc.local[0]?.tap ?? ''}`)) throw new Error('the tools namespace does not hold the endpoint chains after the restore');
    if (DATAPLANE === 'iptables') {
      progress('tools', "the agent's way: eight per-table iptables-restore --noflush, all at once, in a fresh namespace");
      const par = await perTableRestore(await world.hostNetns('p'), dump, true);
      progress(
        'tools',
        `  all at once: ${ms(par.wallMs)} (${Object.entries(par.perTableMs)
          .map(([k, v]) => `${k} ${ms(v)}`)
          .join(', ')})`,
      );
      const seq = await perTableRestore(await world.hostNetns('q'), dump, false);
      progress('tools', `  one by one: ${ms(seq.wallMs)}`);
      r.perTableRestore = { parallel: par, sequential: seq };
    }
    progress('tools', `read-back costs (median of ${PARAMS.readBackReps} on the loaded tools namespace)`);
    r.readBack = await readBack(fresh, PARAMS.readBackReps, DATAPLANE);
    for (const [k, v] of Object.entries(r.readBack)) progress('tools', `  ${k}: median ${ms(v.p50Ms)}`);
    progress('tools', 'one endpoint with the tools alone');
    r.oneEndpointTools =
      DATAPLANE === 'nft'
        ? await oneEndpointToolsNft(fresh, sc.local[0]?.tap ?? '', PARAMS.toolReps)
        : await oneEndpointTools(fresh, dump, sc.local[0]?.tap ?? '', PARAMS.toolReps);
    for (const [k, v] of Object.entries(r.oneEndpointTools.figures)) progress('tools', `  ${k}: median ${ms(v.p50Ms)}, min ${ms(v.minMs)}, max ${ms(v.maxMs)}`);

    // The restart on the programmed dataplane; this agent serves the rest of the run.
    progress('restart', 'starting the agent again on the programmed dataplane');
    await mark('restart');
    const restart = await startAgent(world, kv, { tag: 'restart', storePath, hostname: PARAMS.hostname, netns: host.name, ...diag }, startOpts);
    agent = restart.agent;
    r.restart = restart.figures;
    r.memory.afterRestart = await memory(agent);
    progress(
      'restart',
      `first apply ${ms(restart.figures.log.firstApplyMs)}, ${int(restart.figures.log.firstApplyIptablesLines ?? NaN)} iptables lines written`,
    );

    // 2. Adds.
    progress('add', `adding ${PARAMS.adds.tapFirst} endpoints one at a time (tap first), then ${PARAMS.adds.endpointFirst} in Nova's order`);
    const addParams = {
      hostname: PARAMS.hostname,
      sgIds: sc.sgIds,
      rand: prng(PARAMS.scenario.seed + 1),
      taken: sc.taken,
      ipBase: PARAMS.adds.ipBase,
      pollMs: PARAMS.adds.pollMs,
      timeoutMs: PARAMS.adds.timeoutMs,
    };
    await mark('adds');
    const m0 = await agent.metrics();
    const c0 = await snapshot(agent.pid);
    const tapFirst = await addTapFirst(kv, host, agent, addParams, { n: PARAMS.adds.tapFirst, settleMs: PARAMS.adds.settleMs, offset: 0 });
    const c1 = await snapshot(agent.pid);
    const m1 = await agent.metrics();
    progress(
      'add',
      `tap first: p50 ${ms(tapFirst.p50Ms)}, p99 ${ms(tapFirst.p99Ms)}, max ${ms(tapFirst.maxMs)} (${tapFirst.duringRefresh.length} during a refresh)`,
    );
    await mark('adds, endpoint first');
    const endpointFirst = await addEndpointFirst(kv, host, agent, addParams, {
      n: PARAMS.adds.endpointFirst,
      settleMs: PARAMS.adds.endpointFirstSettleMs,
      offset: PARAMS.adds.tapFirst,
    });
    progress('add', `endpoint first: tap -> up p50 ${ms(endpointFirst.p50Ms)}, p99 ${ms(endpointFirst.p99Ms)}`);
    r.adds = { tapFirst, endpointFirst, cpu: between(c0, c1), agentMetrics: metricsDelta(m0, m1) };
    r.memory.afterAdds = await memory(agent);
    if (DIAGNOSE !== undefined) await agent.writeLog(join(DIAGNOSE, 'agent-restart.log'));
    await heapSnapshot(agent, 'after the adds');

    // 4. Throughput.
    progress('iperf', 'throughput between two VMs');
    await mark('throughput');
    r.throughput = await throughput(world, kv, {
      host,
      hostname: PARAMS.hostname,
      agent,
      smallStorePath: join(dir, 'store-small'),
      pollMs: PARAMS.readinessPollMs,
      iperf: PARAMS.iperf,
    });
    await mark('end');
  } catch (err) {
    if (err instanceof AbortedError) throw err;
    r.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    progress('bench', `FAILED: ${r.error}`);
    process.exitCode = 1;
  } finally {
    progress('cleanup', 'stopping the agents, removing the namespaces and temp directories');
    await agent?.stop();
    await kv?.close();
    await world.destroy();
  }
}

/** Waits (at most 3 minutes) until the machine's CPU, kernel threads included, is below 0.3 cores busy over 2 s. */
async function waitForQuiet(): Promise<void> {
  const deadline = performance.now() + 180_000;
  for (;;) {
    const a = await snapshot(undefined);
    await new Promise((r) => setTimeout(r, 2_000));
    const busy = between(a, await snapshot(undefined)).otherCores;
    if (busy < 0.3) return;
    if (performance.now() > deadline) {
      progress('setup', `the machine is still busy (${busy} cores); measuring anyway`);
      return;
    }
    progress('setup', `waiting for the machine to go quiet (${busy} cores busy)`);
    checkStop();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the agent benchmark makes network namespaces: run it as root');
  if (DIAGNOSE !== undefined) await realFs().ensureDir(DIAGNOSE);
  const date = new Date().toISOString();
  const started = performance.now();
  const brindle = await workTree();
  const machine = await machineInfo();
  const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
  progress(
    'bench',
    `${machine.nproc} cores, ${machine.os}, ${machine.iptables}; load average ${loadAtStart.join(' ')}${(loadAtStart[0] ?? 0) > 0.5 ? ' -- the machine is busy; figures will be disturbed' : ''}`,
  );
  const r: Results = {};
  let stateText = '';
  await measure(new World(), r, (t) => (stateText = t));
  const loadAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  const { text, targets, notes } = formatReport(r, PARAMS);
  const out = process.stdout;
  out.write(
    `\nAgent benchmark (${DATAPLANE} dataplane): brindle node with ${int(PARAMS.scenario.localEndpoints)} local endpoints, ${int(PARAMS.scenario.securityGroups)} security groups (${int(PARAMS.scenario.ingressRules)} ingress rules), ${int(PARAMS.scenario.remoteEndpoints)} remote endpoints, ${date}\n`,
  );
  out.write(
    `${machine.nproc} x ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB RAM, Linux ${machine.kernel}, ${machine.iptables}, ${machine.ipset}, ${machine.iproute2}, node ${machine.node}\n`,
  );
  out.write(`brindle ${brindle}; load average (1, 5, 15 min) at start ${loadAtStart.join(' ')}, at end ${loadAtEnd.join(' ')}\n\n`);
  if (stateText !== '') out.write(`${stateText}\n\n`);
  out.write(`${text}\n\n${targets.join('\n')}\n\n${notes.join('\n')}\n`);
  if (r.error !== undefined) out.write(`\nthe run stopped early: ${r.error.split('\n')[0] ?? ''}\n`);
  if (QUICK || DIAGNOSE !== undefined) {
    out.write(`${QUICK ? '--quick: trial run' : `--diagnose: instrumented run (see ${DIAGNOSE})`}, no results file written\n`);
    return;
  }
  const path = await writeResults(
    date,
    {
      date,
      durationSeconds: Math.round((performance.now() - started) / 1000),
      brindle,
      machine: { ...machine, loadAverage: { start: loadAtStart, end: loadAtEnd } },
      parameters: PARAMS,
      results: r,
      targets,
      notes,
      table: text.split('\n'),
      stateTable: stateText.split('\n'),
    },
    DATAPLANE,
  );
  out.write(`figures written to ${path}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof AbortedError) process.stderr.write('agent benchmark stopped; nothing written\n');
  else process.stderr.write(`agent benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
