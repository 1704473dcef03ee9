// The API benchmark: Brindle's Neutron API (`bin/brindle api`, on an embedded store and on a
// real etcd) and Debian's neutron-server 21 (sqlite, noauth, ML2 with a stub tap driver),
// measured one after another in the same run with the same keep-alive HTTP client. Each server
// gets fresh state, a network and a /16 subnet, then: sequential and 16-way port creates,
// binding (and, for Brindle, the time until the WorkloadEndpoint is written), bound port
// creates and a full port list. Prints a table on stdout (progress on stderr) and writes
// bench/results/api.json. Run from the project root after building:
//   node dist/bench/api/run.js [--quick]
// The first run installs neutron-server (apt, needs root) through bench/api/neutron-server.sh.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { openDatastore, type DatastoreConfig } from '../../src/datastore/index.js';
import type { KvStore } from '../../src/datastore/index.js';
import { startTestEtcd, type TestEtcd } from '../../src/datastore/testing/index.js';
import { startTestKeystone, type TestKeystone } from '../../src/neutron/testing/index.js';
import { AbortedError, realExec, realFs } from '../../src/lib/index.js';
import { trackTempDir, untrackTempDir } from '../../src/lib/testing.js';
import { progress, sleep } from '../datastore/workload.js';
import { type ApiClient, type FailedCall } from './http-client.js';
import {
  bindPorts,
  createBoundPorts,
  createBulk,
  createPorts,
  listPorts,
  makeFillNetwork,
  newTarget,
  writeAgentStatus,
  type LatencyFigures,
  type Target,
  warmUp,
} from './measure.js';
import { formatTable, machineInfo, targets, writeResults, type Columns, type Outcome, type ServerFigures } from './report.js';
import { startBrindle, startNeutronServer, type ErrorLog, type RunningServer } from './servers.js';

/** `--quick` divides every count by 10: a trial run of the whole thing in about a minute. */
const QUICK = process.argv.includes('--quick');
const n = (count: number): number => (QUICK ? Math.max(10, Math.round(count / 10)) : count);

const PARAMS = {
  quick: QUICK,
  inFlight: 16,
  /** Unmeasured creates right after a server starts (neutron-server's only warm-up: CPython has no JIT). */
  warmupCreates: 10,
  /**
   * Brindle's warm-up before the timed phases: this many creates, 16 in flight, deleted again.
   * V8 compiles the request path only after a few thousand requests (bench/README).
   */
  brindleWarmUp: n(3_000),
  listRuns: 3,
  brindle: { sequential: n(1_000), concurrent: n(2_000), bulk: n(20), bind: n(200), boundCreate: n(200), listPorts: n(100_000), sequentialAtListSize: n(200) },
  neutron: { sequential: n(200), concurrent: n(200), bulk: n(5), bind: n(100), boundCreate: n(200) },
  /** Ports per bulk create request. */
  bulkSize: 100,
  subnet: '198.18.0.0/16',
  /** The ports that only fill the list go to a second network with an IPv6 /64 (makeFillNetwork). */
  fillSubnet: '2001:db8:100::/64',
  /** Fill rounds with failures wait this long before the next (etcd3's circuit breaker re-closes after 5 s). */
  fillRetryPauseMs: 6_000,
  fillMaxRounds: 5,
};

interface Run {
  readonly outcome: Outcome;
  readonly failures: { readonly perPhase: Record<string, number>; readonly samples: readonly FailedCall[] };
  readonly serverErrorLog: ErrorLog | undefined;
}

async function describeFailure(tag: string, err: unknown, server: RunningServer | undefined): Promise<string> {
  if (err instanceof AbortedError) throw err;
  const text = err instanceof Error ? err.message : String(err);
  const tail = server === undefined ? '' : (await server.tail()).slice(-2000);
  progress(tag, `FAILED: ${text}${tail === '' ? '' : `\n--- last output ---\n${tail}`}`);
  return tail === '' ? text : `${text}\n--- last output ---\n${tail}`;
}

function finish(figures: ServerFigures, client: ApiClient | undefined, error: string | undefined, serverErrorLog: ErrorLog | undefined): Run {
  const perPhase = Object.fromEntries(client?.failures ?? []);
  const failedRequests = Object.values(perPhase).reduce((a, b) => a + b, 0);
  return {
    outcome: { figures, failedRequests, ...(error === undefined ? {} : { error }) },
    failures: { perPhase, samples: client?.samples ?? [] },
    serverErrorLog,
  };
}

/**
 * Creates ports (16 in flight) until `target` exist. A round with failures is followed by a
 * pause and another round, so the list is measured at the intended size; every failure stays
 * counted and reported.
 */
async function fillTo(t: Target, made: number, target: number): Promise<LatencyFigures[]> {
  const rounds: LatencyFigures[] = [];
  let have = made;
  for (let round = 1; have < target && round <= PARAMS.fillMaxRounds; round++) {
    const r = await createPorts(t, round === 1 ? `fill to ${target}` : `fill to ${target} (round ${round})`, target - have, PARAMS.inFlight, []);
    rounds.push(r);
    have += r.ok;
    if (r.failed > 0 && have < target) {
      progress(t.tag, `  ${r.failed} creates failed; pausing ${PARAMS.fillRetryPauseMs / 1000} s before creating the missing ${target - have}`);
      await sleep(PARAMS.fillRetryPauseMs);
    }
  }
  return rounds;
}

/** What a run holds while it measures: stopped and collected by `measured` whatever happens. */
interface Session {
  server?: RunningServer;
  client?: ApiClient;
}

/**
 * One server's run: `work` starts it (into the session) and measures into `f`; whatever
 * happens, the server's error log is collected, the client closed, the server stopped, then
 * `cleanup` runs. A failure becomes the run's error, with the server's last output.
 */
async function measured(
  tag: string,
  f: ServerFigures,
  work: (s: Session) => Promise<void>,
  cleanup: () => Promise<void> = () => Promise.resolve(),
): Promise<Run> {
  const s: Session = {};
  let error: string | undefined;
  let errorLog: ErrorLog | undefined;
  try {
    await work(s);
  } catch (err) {
    error = await describeFailure(tag, err, s.server);
  } finally {
    errorLog = await s.server?.errorLog().catch(() => undefined);
    s.client?.close();
    await s.server?.stop();
    await cleanup();
  }
  return finish(f, s.client, error, errorLog);
}

/** One Brindle API server on a fresh datastore: every measurement. */
async function brindle(tag: string, spec: string, config: DatastoreConfig, etcd: TestEtcd | undefined): Promise<Run> {
  const p = PARAMS.brindle;
  const f: ServerFigures = {};
  let kv: KvStore | undefined;
  return measured(
    tag,
    f,
    async (session) => {
      const server = (session.server = await startBrindle(tag, spec));
      kv = await openDatastore(config);
      const t = await newTarget(tag, server, etcd);
      session.client = t.client;
      const ids: string[] = [];
      const warm = await createPorts(t, 'warm-up', PARAMS.warmupCreates, 1, []);
      f.sequentialFirst = await createPorts(t, 'sequential, first after start', p.sequential, 1, []);
      await warmUp(t, PARAMS.brindleWarmUp, PARAMS.inFlight);
      f.sequential = await createPorts(t, 'sequential', p.sequential, 1, ids);
      f.concurrent = await createPorts(t, 'concurrent', p.concurrent, PARAMS.inFlight, []);
      f.bulk = await createBulk(t, 'bulk', p.bulk, PARAMS.bulkSize);
      await writeAgentStatus(kv);
      f.bind = await bindPorts(t, 'bind', ids.slice(0, p.bind), kv);
      f.boundCreate = await createBoundPorts(t, 'bound-create', p.boundCreate);
      const made = warm.ok + f.sequentialFirst.ok + f.sequential.ok + f.concurrent.ok + f.bulk.ok * PARAMS.bulkSize + f.boundCreate.ok;
      f.fill = await fillTo({ ...t, networkId: await makeFillNetwork(t.client) }, made, p.listPorts);
      const have = made + f.fill.reduce((a, r) => a + r.ok, 0);
      f.list = await listPorts(t, 'list', PARAMS.listRuns, have);
      f.sequentialAtListSize = await createPorts(t, `sequential at ${f.list.ports} ports`, p.sequentialAtListSize, 1, []);
    },
    async () => {
      await kv?.close();
    },
  );
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
    const version = await fetch(`${etcd.endpoint}/version`)
      .then(async (r) => ((await r.json()) as { etcdserver?: string }).etcdserver ?? 'unknown')
      .catch(() => 'unknown');
    return { run: await brindle('etcd', `etcd:${etcd.endpoint}`, etcd.config, etcd), etcdVersion: version };
  } finally {
    await etcd.stop();
  }
}

/** The 16-way creates again on a fresh etcd with `brindle api --workers 2`: the scaling from 1 to 2 workers. */
async function brindleEtcdWorkers(): Promise<Run> {
  const tag = 'etcd-workers2';
  const etcd = await startTestEtcd();
  const f: ServerFigures = {};
  return measured(
    tag,
    f,
    async (session) => {
      const server = (session.server = await startBrindle(tag, `etcd:${etcd.endpoint}`, 2));
      const t = await newTarget(tag, server, etcd);
      session.client = t.client;
      // Warm both workers up (the primary hands connections round-robin).
      await warmUp(t, PARAMS.brindleWarmUp * 2, PARAMS.inFlight);
      f.workers2 = await createPorts(t, 'concurrent, 2 workers', PARAMS.brindle.concurrent, PARAMS.inFlight, []);
    },
    () => etcd.stop(),
  );
}

/**
 * The sequential and 16-way creates again with `--auth keystone` on a fresh etcd: a real Debian
 * keystone (sqlite), Brindle's service user, and a member's token on every request (validated
 * once, then from the cache).
 */
async function brindleEtcdKeystone(): Promise<Run> {
  const tag = 'etcd-keystone';
  const f: ServerFigures = {};
  let ks: TestKeystone | undefined;
  let etcd: TestEtcd | undefined;
  return measured(
    tag,
    f,
    async (session) => {
      ks = await startTestKeystone();
      await ks.addUser('service', 'brindle', 'brindle-bench', 'admin');
      await ks.addUser('bench', 'bench', 'bench-pw', 'member');
      const token = await ks.token('bench', 'bench-pw', 'bench');
      progress(tag, `keystone at ${ks.url}`);
      etcd = await startTestEtcd();
      const auth = ['--auth', 'keystone', '--keystone-url', ks.url, '--keystone-username', 'brindle', '--keystone-password', 'brindle-bench'];
      const server = (session.server = await startBrindle(tag, `etcd:${etcd.endpoint}`, 1, auth));
      const t = await newTarget(tag, server, etcd, { 'X-Auth-Token': token });
      session.client = t.client;
      await warmUp(t, PARAMS.brindleWarmUp, PARAMS.inFlight);
      f.keystoneSequential = await createPorts(t, 'sequential, keystone', PARAMS.brindle.sequential, 1, []);
      f.keystoneConcurrent = await createPorts(t, 'concurrent, keystone', PARAMS.brindle.concurrent, PARAMS.inFlight, []);
    },
    async () => {
      await etcd?.stop();
      await ks?.remove();
    },
  );
}

async function neutronServer(): Promise<Run> {
  const tag = 'neutron';
  const p = PARAMS.neutron;
  const fs = realFs();
  const f: ServerFigures = {};
  const scratch = await fs.makeTempDir('brindle-bench-neutron-');
  trackTempDir(scratch);
  return measured(
    tag,
    f,
    async (session) => {
      progress(tag, `scratch dir ${scratch}`);
      const server = (session.server = await startNeutronServer(tag, scratch));
      const t = await newTarget(tag, server);
      session.client = t.client;
      const ids: string[] = [];
      await createPorts(t, 'warm-up', PARAMS.warmupCreates, 1, []);
      f.sequential = await createPorts(t, 'sequential', p.sequential, 1, ids);
      f.concurrent = await createPorts(t, 'concurrent', p.concurrent, PARAMS.inFlight, []);
      f.bulk = await createBulk(t, 'bulk', p.bulk, PARAMS.bulkSize);
      f.bind = await bindPorts(t, 'bind', ids.slice(0, p.bind), undefined);
      f.boundCreate = await createBoundPorts(t, 'bound-create', p.boundCreate);
      f.list = await listPorts(t, 'list', PARAMS.listRuns);
    },
    async () => {
      await fs.remove(scratch);
      untrackTempDir(scratch);
    },
  );
}

/** The most CPU other processes used during any phase of a server's run (cores). */
function disturbance(f: ServerFigures): number {
  const phases = [f.sequentialFirst, f.sequential, f.concurrent, f.bind?.put, f.boundCreate, ...(f.fill ?? []), f.sequentialAtListSize];
  const all = [...phases.map((p) => p?.cpuPerOp.otherCores), f.list?.cpuPerOp.otherCores].filter((x): x is number => x !== undefined);
  return all.length === 0 ? 0 : Math.max(...all);
}

function failureReport(name: string, run: Run): string[] {
  const out: string[] = [];
  if (run.outcome.error !== undefined) out.push(`${name}: stopped early: ${run.outcome.error.split('\n')[0] ?? ''}`);
  const phases = Object.entries(run.failures.perPhase);
  if (phases.length > 0) {
    out.push(`${name}: failed requests per phase: ${phases.map(([k, v]) => `${k} ${v}`).join(', ')}; the first ones:`);
    for (const s of run.failures.samples) out.push(`  [${s.phase} ${s.at}] ${s.method} ${s.path} ${s.request} -> ${s.status} ${s.response}`);
  }
  const list = run.outcome.figures.list;
  if (list?.expected !== undefined && list.ports !== list.expected)
    out.push(`${name}: GET /v2.0/ports listed ${list.ports} ports; ${list.expected} creates had succeeded`);
  for (const p of list?.createdDespiteFailure ?? []) out.push(`${name}: port ${p.id} ("${p.name}") exists although its POST /v2.0/ports failed`);
  const log = run.serverErrorLog;
  if (log !== undefined && log.count > 0) {
    out.push(`${name}: ${log.count} error lines in the server's log; the first:`);
    for (const l of log.first.slice(0, 1)) out.push(`  ${l.length > 1200 ? `${l.slice(0, 1200)}…` : l}`);
  }
  return out;
}

/** What is measured: the commit at the start, and whether src/ had uncommitted changes (dist/ is built from the work tree). */
async function workTree(): Promise<string> {
  const exec = realExec();
  const commit = (await exec.run('git', ['rev-parse', '--short', 'HEAD'], { timeoutMs: 5_000 })).stdout.trim();
  const dirty = (await exec.run('git', ['status', '--porcelain', 'src'], { timeoutMs: 5_000 })).stdout.split('\n').filter((l) => l.trim() !== '').length;
  return `${commit === '' ? 'unknown commit' : commit}${dirty > 0 ? ` + ${dirty} uncommitted file(s) in src/` : ''}`;
}

async function main(): Promise<void> {
  const date = new Date().toISOString();
  const started = Date.now();
  const brindleVersion = await workTree();
  const loadAtStart = loadavg().map((l) => Math.round(l * 100) / 100);
  progress('bench', `load average ${loadAtStart.join(' ')}${(loadAtStart[0] ?? 0) > 0.5 ? ' -- the machine is busy; figures will be disturbed' : ''}`);
  const embedded = await brindleEmbedded();
  const { run: etcdOne, etcdVersion } = await brindleEtcd();
  const workers2 = await brindleEtcdWorkers();
  const keystone = await brindleEtcdKeystone();
  // One column for Brindle on etcd: the later runs add their figures (and their failures).
  const more = [workers2, keystone];
  const moreError = more.map((r) => r.outcome.error).find((e) => e !== undefined);
  const etcd: Run = {
    ...etcdOne,
    outcome: {
      ...etcdOne.outcome,
      figures: Object.assign({}, etcdOne.outcome.figures, ...more.map((r) => r.outcome.figures)) as ServerFigures,
      failedRequests: etcdOne.outcome.failedRequests + more.reduce((n, r) => n + r.outcome.failedRequests, 0),
      ...((etcdOne.outcome.error ?? moreError) === undefined ? {} : { error: etcdOne.outcome.error ?? moreError ?? '' }),
    },
    failures: {
      perPhase: Object.assign({}, etcdOne.failures.perPhase, ...more.map((r) => r.failures.perPhase)) as Run['failures']['perPhase'],
      samples: [...etcdOne.failures.samples, ...more.flatMap((r) => r.failures.samples)],
    },
  };
  const neutron = await neutronServer();
  const loadAtEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  const machine = await machineInfo();
  const columns: Columns = { embedded: embedded.outcome, etcd: etcd.outcome, neutron: neutron.outcome };
  const table = formatTable(columns, PARAMS.brindle.listPorts);
  const goals = targets(columns);
  const problems = [...failureReport('brindle embedded', embedded), ...failureReport('brindle etcd', etcd), ...failureReport('neutron-server', neutron)];
  const kernel = await realExec().run('uname', ['-r'], { timeoutMs: 5_000 });
  const out = process.stdout;
  out.write(`\nNeutron API benchmark: brindle api vs Debian neutron-server, ${date}\n`);
  out.write(
    `${machine.cores} x ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB RAM, node ${machine.node}, ${machine.etcd}, ${machine.neutronServer}, data on ${machine.tmpdirFilesystem}\n`,
  );
  out.write(`brindle ${brindleVersion}; load average (1, 5, 15 min) at start ${loadAtStart.join(' ')}, at end ${loadAtEnd.join(' ')}\n`);
  out.write('N=Brindle/neutron-server; "vs neutron" = how many times faster (or more ports/s) Brindle is\n\n');
  out.write(`${table}\n\n${goals.join('\n')}\n`);
  const other = [embedded, etcd, neutron].map((r) => disturbance(r.outcome.figures));
  out.write(
    `other processes' CPU, most in any phase (cores): embedded ${other[0]}, etcd ${other[1]}, neutron ${other[2]}` +
      `${other.some((c) => c >= 0.2) ? ' -- the machine was not quiet; figures are disturbed' : ''}\n`,
  );
  out.write(problems.length === 0 ? 'no failed requests, no error lines in the server logs\n' : `\n${problems.join('\n')}\n`);
  if ([embedded, etcd, neutron].some((r) => r.outcome.error !== undefined)) process.exitCode = 1;
  if (QUICK) {
    out.write('--quick: trial run, bench/results/api.json not written\n');
    return;
  }
  const path = await writeResults({
    date,
    durationSeconds: Math.round((Date.now() - started) / 1000),
    brindle: brindleVersion,
    machine: { ...machine, kernel: kernel.stdout.trim(), etcdServerVersion: etcdVersion, loadAverage: { start: loadAtStart, end: loadAtEnd } },
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
