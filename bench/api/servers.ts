// Starting and stopping the servers under test, each on 127.0.0.1 with its own fresh state:
// `bin/brindle api` on an embedded store or an etcd, and Debian's neutron-server through
// neutron-server.sh. Everything is stopped by PID; temp dirs are removed by the caller.
// The cleanup registry (also used by startTestEtcd) kills what is still running if the process
// exits early (Ctrl-C).
import { join } from 'node:path';
import { freePort } from '../../src/lib/index.js';
import { realExec, realFs, type ChildHandle, type ExitStatus } from '../../src/lib/index.js';
import { trackChild } from '../../src/lib/testing.js';
import { progress, sleep } from '../datastore/workload.js';
import { childPids } from './proc-stats.js';
import { projectRoot } from '../project-root.js';
export { projectRoot };

export interface ErrorLog {
  readonly first: readonly string[];
  readonly count: number;
}

export interface RunningServer {
  readonly url: string;
  readonly pid: number;
  /** The server's processes now (neutron-server: the parent and its workers). */
  pids(): Promise<number[]>;
  /** Why it is no longer running, if it has stopped on its own. */
  exitedEarly(): string | undefined;
  /** The last lines of its output (neutron-server: of its log), for error reports. */
  tail(): Promise<string>;
  /** The first error-level log lines and how many there were (call before stop for neutron-server). */
  errorLog(): Promise<ErrorLog>;
  stop(): Promise<void>;
}

/**
 * Keeps the last `max` characters of a child's output, and the first few error-level log lines
 * (pino level 50 and up) with the count of all of them.
 */
function keepOutput(child: ChildHandle, max = 16_000): { tail: () => string; errors: { first: string[]; count: number } } {
  let text = '';
  let partial = '';
  const errors = { first: [] as string[], count: 0 };
  const add = (d: Buffer): void => {
    const chunk = d.toString('utf8');
    text = (text + chunk).slice(-max);
    partial += chunk;
    for (let nl = partial.indexOf('\n'); nl >= 0; nl = partial.indexOf('\n')) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (/^\{"level":(5|6)\d,/.test(line)) {
        errors.count++;
        if (errors.first.length < 3) errors.first.push(line.length > 2500 ? `${line.slice(0, 2500)}…` : line);
      }
    }
    if (partial.length > 1_000_000) partial = '';
  };
  child.stdout.on('data', add);
  child.stderr.on('data', add);
  return { tail: () => text, errors };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitForRoot(url: string, timeoutMs: number, stillRunning: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = stillRunning();
    if (why !== undefined) throw new Error(why);
    try {
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url}/ did not answer within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * `bin/brindle api --datastore SPEC --listen 127.0.0.1:PORT`, waited for until `GET /` answers;
 * `workers` > 1 runs it with --workers (its PIDs then include the workers). `port` is a free one
 * unless given (a catalog entry made before the server starts names it).
 */
export async function startBrindle(tag: string, datastore: string, workers = 1, extraArgs: readonly string[] = [], givenPort?: number): Promise<RunningServer> {
  const port = givenPort ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const bin = join(projectRoot(), 'bin', 'brindle');
  const child = realExec().spawn(process.execPath, [
    bin,
    'api',
    '--datastore',
    datastore,
    '--listen',
    `127.0.0.1:${port}`,
    '--hostname',
    'bench-api',
    ...(workers > 1 ? ['--workers', String(workers)] : []),
    ...extraArgs,
  ]);
  trackChild(child);
  child.stdin.end();
  const output = keepOutput(child);
  const tail = output.tail;
  let exit: ExitStatus | undefined;
  void child.exited.then((s) => (exit = s));
  const exitedEarly = (): string | undefined =>
    exit === undefined ? undefined : `brindle api (pid ${child.pid}) exited (${exit.code ?? exit.signal}); its last output:\n${tail().slice(-3000)}`;
  const stop = async (): Promise<void> => {
    if (exit !== undefined) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await child.exited;
    clearTimeout(killer);
  };
  try {
    await waitForRoot(url, 30_000, exitedEarly);
  } catch (err) {
    await stop();
    throw err;
  }
  progress(tag, `brindle api pid ${child.pid} at ${url} (datastore ${datastore})`);
  return {
    url,
    pid: child.pid,
    pids: async () => (exit === undefined ? [child.pid, ...(workers > 1 ? await childPids(child.pid) : [])] : []),
    exitedEarly,
    tail: () => Promise.resolve(tail()),
    errorLog: () => Promise.resolve({ first: [...output.errors.first], count: output.errors.count }),
    stop,
  };
}

/**
 * neutron-server via neutron-server.sh (installs the packages on first use, writes the config
 * under `scratch`, builds the schema, starts the server and waits for `GET /`).
 */
export async function startNeutronServer(tag: string, scratch: string): Promise<RunningServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const script = join(projectRoot(), 'bench', 'api', 'neutron-server.sh');
  const setup = realExec().spawn('bash', [script, scratch, String(port)]);
  setup.stdin.end();
  // The script's progress (and apt's, on the first run) goes to our stderr as it comes.
  let buf = '';
  let lastLines = '';
  setup.stderr.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl).trimEnd();
      buf = buf.slice(nl + 1);
      lastLines = `${lastLines}${line}\n`.slice(-4000);
      if (line !== '') progress(tag, `  ${line}`);
    }
  });
  setup.stdout.resume();
  const status = await setup.exited;
  const pidFile = join(scratch, 'neutron-server.pid');
  const fs = realFs();
  const pid = fs.exists(pidFile) ? Number((await fs.readText(pidFile)).trim()) : NaN;
  // Registered for the exit-time cleanup before anything can fail.
  let workers: number[] = [];
  const killAll = (signal: NodeJS.Signals): void => {
    for (const p of [pid, ...workers]) {
      try {
        process.kill(p, signal);
      } catch {
        // already gone
      }
    }
  };
  const logTail = async (): Promise<string> => {
    const log = join(scratch, 'server.log');
    return fs.exists(log) ? (await fs.readText(log)).slice(-4000) : '(no server.log)';
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped || !Number.isInteger(pid)) return;
    stopped = true;
    workers = [...new Set([...workers, ...(await childPids(pid))])];
    if (alive(pid)) process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 15_000;
    while ([pid, ...workers].some(alive) && Date.now() < deadline) await sleep(100);
    if ([pid, ...workers].some(alive)) {
      progress(tag, `neutron-server did not stop in 15 s after SIGTERM: SIGKILL to ${[pid, ...workers].filter(alive).join(', ')}`);
      killAll('SIGKILL');
    }
  };
  if (Number.isInteger(pid) && pid > 0) {
    const pseudo: ChildHandle = {
      pid,
      stdin: setup.stdin,
      stdout: setup.stdout,
      stderr: setup.stderr,
      exited: new Promise<ExitStatus>(() => {}),
      kill: (signal) => killAll(signal ?? 'SIGTERM'),
    };
    trackChild(pseudo);
  }
  if (status.code !== 0) {
    await stop();
    throw new Error(`neutron-server.sh exited ${status.code ?? status.signal}:\n${lastLines.slice(-2500)}`);
  }
  workers = await childPids(pid);
  progress(tag, `neutron-server pid ${pid} (workers ${workers.join(', ')}) at ${url}`);
  const exitedEarly = (): string | undefined => (alive(pid) ? undefined : `neutron-server (pid ${pid}) is gone; see ${join(scratch, 'server.log')}`);
  return {
    url,
    pid,
    pids: async () => [pid, ...(await childPids(pid))].filter(alive),
    exitedEarly,
    tail: () => logTail().catch(() => ''),
    errorLog: async () => {
      const log = join(scratch, 'server.log');
      // The one ERROR every start logs (ML2 without routers cannot offer auto-allocated-topology) is left out.
      const lines = fs.exists(log)
        ? (await fs.readText(log)).split('\n').filter((l) => / ERROR /.test(l) && !/Unable to process extensions \(auto-allocated-topology\)/.test(l))
        : [];
      return { first: lines.slice(0, 3).map((l) => (l.length > 1500 ? `${l.slice(0, 1500)}…` : l)), count: lines.length };
    },
    stop,
  };
}
