// The API benchmark: Brindle's Neutron API (`bin/brindle api`, on an embedded store and on a
// real etcd) and Debian's neutron-server 21 (sqlite, noauth, ML2 with a stub tap driver),
// measured one after another in the same run with the same keep-alive HTTP client. Each server
// gets fresh state, a network and a /16 subnet, then: sequential and 16-way port creates,
// binding (and, for Brindle, the time until the WorkloadEndpoint is written), bound port
// creates and a full port list. Prints a table on stdout (progress on stderr) and writes
// bench/results/api.json. Run from the project root after building:
//   node dist/bench/api/run.js [--quick]
// The first run installs neutron-server (apt, needs root) through bench/api/neutron-server.sh.
import { join } from 'node:path';
import { openDatastore, type DatastoreConfig } from '../../src/datastore/open-datastore.js';
import { startTestEtcd, type TestEtcd } from '../../src/datastore/testing/etcd-server.js';
import { AbortedError, realExec, realFs } from '../../src/lib/index.js';
import { trackTempDir, untrackTempDir } from '../../src/lib/testing.js';
import { progress } from '../datastore/workload.js';
import { ApiClient, type FailedCall } from './http-client.js';
import {
  bindPorts, createBoundPorts, createPorts, listPorts, makeNetwork, writeAgentStatus, type Target,
} from './measure.js';
import type { Watched } from './proc-stats.js';
import { formatTable, machineInfo, targets, writeResults, type Columns, type Outcome } from './report.js';
import { startBrindle, startNeutronServer, type RunningServer } from './servers.js';

/** `--quick` divides every count by 10: a trial run of the whole thing in about a minute. */
const QUICK = process.argv.includes('--quick');
const n = (count: number): number => (QUICK ? Math.max(10, Math.round(count / 10)) : count);

const PARAMS = {
  quick: QUICK,
  inFlight: 16,
  /** Unmeasured creates first, so neither server is timed cold. */
  warmupCreates: 10,
  listRuns: 3,
  brindle: { sequential: n(1_000), concurrent: n(2_000), bind: n(200), boundCreate: n(200), listPorts: n(10_000) },
  neutron: { sequential: n(200), concurrent: n(200), bind: n(100), boundCreate: n(200) },
  subnet: '198.18.0.0/16',
};

interface Run {
  readonly outcome: Outcome;
  readonly failures: { readonly perPhase: Record<string, number>; readonly samples: readonly FailedCall[] };
}

async function describeFailure(tag: string, err: unknown, server: RunningServer | undefined): Promise<string> {
  if (err instanceof AbortedError) throw err;
  const text = err instanceof Error ? err.message : String(err);
  const tail = server === undefined ? '' : (await server.tail()).slice(-2000);
  progress(tag, `FAILED: ${text}${tail === '' ? '' : `\n--- last output ---\n${tail}`}`);
  return tail === '' ? text : `${text}\n--- last output ---\n${tail}`;
}

function failuresOf(client: ApiClient | undefined): Run['failures'] {
  return { perPhase: Object.fromEntries(client?.failures ?? []), samples: client?.samples ?? [] };
}

/** One Brindle API server on a fresh datastore: every measurement. */
async function brindle(tag: string, spec: string, config: DatastoreConfig, etcd: TestEtcd | undefined): Promise<Run> {
  const p = PARAMS.brindle;
  let server: RunningServer | undefined;
  let client: ApiClient | undefined;
  let kv: Awaited<ReturnType<typeof openDatastore>> | undefined;
  try {
    server = await startBrindle(tag, spec);
    const s = server;
    kv = await openDatastore(config);
    client = new ApiClient(s.url);
    const { networkId } = await makeNetwork(client);
    const watched: Watched = { serverPids: () => s.pids(), etcdPid: etcd?.pid, etcdEndpoint: etcd?.endpoint };
    const t: Target = { tag, client, server: s, watched, networkId };
    const ids: string[] = [];
    await createPorts(t, 'warm-up', PARAMS.warmupCreates, 1, []);
    const sequential = await createPorts(t, 'sequential', p.sequential, 1, ids);
    const concurrent = await createPorts(t, 'concurrent', p.concurrent, PARAMS.inFlight, []);
    await writeAgentStatus(kv);
    const bind = await bindPorts(t, 'bind', ids.slice(0, p.bind), kv);
    const boundCreate = await createBoundPorts(t, 'bound-create', p.boundCreate);
    const made = PARAMS.warmupCreates + sequential.ok + concurrent.ok + boundCreate.ok;
    const fill = await createPorts(t, `fill to ${p.listPorts}`, Math.max(0, p.listPorts - made), PARAMS.inFlight, []);
    const list = await listPorts(t, 'list', PARAMS.listRuns, p.listPorts);
    return { outcome: { figures: { sequential, concurrent, boundCreate, bind, list, fill } }, failures: failuresOf(client) };
  } catch (err) {
    return { outcome: { error: await describeFailure(tag, err, server) }, failures: failuresOf(client) };
  } finally {
    client?.close();
    await kv?.close();
    await server?.stop();
  }
}

async function brindleEmbedded(): Promise<Run> {
  const fs = realFs();
  const dir = await fs.makeTempDir('brindle-bench-api-embedded-');
  trackTempDir(dir);
  try {
    const path = join(dir, 'store');
    progress('embedded', `store in ${path}`);
    return await brindle('embedded', `embedded:${path}`, { kind: 'embedded', path }, undefined);
  } finally {
    await fs.remove(dir);
    untrackTempDir(dir);
  }
}

async function brindleEtcd(): Promise<{ run: Run; etcdVersion: string }> {
  const etcd = await startTestEtcd();
  try {
    progress('etcd', `etcd pid ${etcd.pid} at ${etcd.endpoint}`);
    const version = await fetch(`${etcd.endpoint}/version`).then((r) => r.text()).catch(() => 'unknown');
    return { run: await brindle('etcd', `etcd:${etcd.endpoint}`, etcd.config, etcd), etcdVersion: version };
  } finally {
    await etcd.stop();
  }
}

async function neutronServer(): Promise<Run> {
  const tag = 'neutron';
  const p = PARAMS.neutron;
  const fs = realFs();
  const scratch = await fs.makeTempDir('brindle-bench-neutron-');
  trackTempDir(scratch);
  let server: RunningServer | undefined;
  let client: ApiClient | undefined;
  try {
    progress(tag, `scratch dir ${scratch}`);
    server = await startNeutronServer(tag, scratch);
    const s = server;
    client = new ApiClient(s.url);
    const { networkId } = await makeNetwork(client);
    const t: Target = { tag, client, server: s, watched: { serverPids: () => s.pids(), etcdPid: undefined, etcdEndpoint: undefined }, networkId };
    const ids: string[] = [];
    await createPorts(t, 'warm-up', PARAMS.warmupCreates, 1, []);
    const sequential = await createPorts(t, 'sequential', p.sequential, 1, ids);
    const concurrent = await createPorts(t, 'concurrent', p.concurrent, PARAMS.inFlight, []);
    const bind = await bindPorts(t, 'bind', ids.slice(0, p.bind), undefined);
    const boundCreate = await createBoundPorts(t, 'bound-create', p.boundCreate);
    const list = await listPorts(t, 'list', PARAMS.listRuns);
    return { outcome: { figures: { sequential, concurrent, boundCreate, bind, list } }, failures: failuresOf(client) };
  } catch (err) {
    return { outcome: { error: await describeFailure(tag, err, server) }, failures: failuresOf(client) };
  } finally {
    client?.close();
    await server?.stop();
    await fs.remove(scratch);
    untrackTempDir(scratch);
  }
}

function failureReport(name: string, run: Run): string[] {
  const out: string[] = [];
  if ('error' in run.outcome) out.push(`${name}: did not complete: ${run.outcome.error.split('\n')[0] ?? ''}`);
  const phases = Object.entries(run.failures.perPhase);
  if (phases.length > 0) {
    out.push(`${name}: failed requests per phase: ${phases.map(([k, v]) => `${k} ${v}`).join(', ')}`);
    for (const s of run.failures.samples) out.push(`  [${s.phase}] ${s.method} ${s.path} ${s.request} -> ${s.status} ${s.response}`);
  }
  return out;
}

async function main(): Promise<void> {
  const date = new Date().toISOString();
  const started = Date.now();
  const embedded = await brindleEmbedded();
  const { run: etcd, etcdVersion } = await brindleEtcd();
  const neutron = await neutronServer();
  const machine = await machineInfo();
  const columns: Columns = { embedded: embedded.outcome, etcd: etcd.outcome, neutron: neutron.outcome };
  const table = formatTable(columns);
  const goals = targets(columns);
  const problems = [...failureReport('brindle embedded', embedded), ...failureReport('brindle etcd', etcd), ...failureReport('neutron-server', neutron)];
  const kernel = await realExec().run('uname', ['-r'], { timeoutMs: 5_000 });
  const out = process.stdout;
  out.write(`\nNeutron API benchmark: brindle api vs Debian neutron-server, ${date}\n`);
  out.write(`${machine.cores} x ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB RAM, node ${machine.node}, ${machine.etcd}, ${machine.neutronServer}, data on ${machine.tmpdirFilesystem}\n`);
  out.write(`N=Brindle/neutron-server; "vs neutron" = how many times faster (or more ports/s) Brindle is\n\n`);
  out.write(`${table}\n\n${goals.join('\n')}\n`);
  out.write(problems.length === 0 ? 'no failed requests\n' : `\n${problems.join('\n')}\n`);
  if ([embedded, etcd, neutron].some((r) => 'error' in r.outcome)) process.exitCode = 1;
  if (QUICK) {
    out.write('--quick: trial run, bench/results/api.json not written\n');
    return;
  }
  const path = await writeResults({
    date,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    machine: { ...machine, kernel: kernel.stdout.trim(), etcdServerVersion: etcdVersion },
    parameters: PARAMS,
    results: { brindleEmbedded: embedded, brindleEtcd: etcd, neutronServer: neutron },
    targets: goals,
    table: table.split('\n'),
  });
  out.write(`figures written to ${path}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof AbortedError) process.stderr.write('API benchmark stopped; nothing written\n');
  else process.stderr.write(`API benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
