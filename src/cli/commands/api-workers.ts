import cluster, { type Worker } from 'node:cluster';
import { backoffDelay, type Logger } from '../../lib/index.js';

/** Set in a worker's environment: its index (0 runs the background work). */
export const WORKER_INDEX_ENV = 'BRINDLE_API_WORKER_INDEX';

/** This process's worker index when it is an API worker, else undefined. */
export function apiWorkerIndex(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const v = env[WORKER_INDEX_ENV];
  return cluster.isWorker && v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** A worker that has stopped serving lets go of the primary (its IPC channel would keep it alive). */
export function leaveCluster(): void {
  if (cluster.isWorker && cluster.worker?.isConnected() === true) cluster.worker.disconnect();
}

export interface ApiWorkersOptions {
  readonly count: number;
  readonly logger: Logger;
  /** Resolves when the primary should stop (SIGTERM, SIGINT). */
  readonly stopped: Promise<void>;
  /** Subscribes to the primary's SIGHUP (returns the unsubscribe): each is passed on to every worker, which reloads its policy file. */
  readonly hangups?: (onHangup: () => void) => () => void;
}

/** A worker that stays up this long has its restart backoff reset. */
const HEALTHY_MS = 60_000;
const STOP_GRACE_MS = 10_000;

/**
 * The primary of `brindle api --workers N` (neutron-server's `api_workers`): forks N workers
 * running this same command, which share the listening port (and socket) through Node's
 * cluster; each has its own datastore client. Only worker 0 runs the background work (election,
 * status, resync, compaction). A worker that dies is started again (backoff 1 s doubling to
 * 30 s); on stop, workers get SIGTERM and, after 10 s, SIGKILL.
 */
export async function runApiWorkers(o: ApiWorkersOptions): Promise<void> {
  let stopping = false;
  const workers = new Map<number, Worker>();
  const failures = new Map<number, { count: number; startedAt: number }>();
  const fork = (index: number): void => {
    const w = cluster.fork({ [WORKER_INDEX_ENV]: String(index) });
    workers.set(index, w);
    const started = Date.now();
    w.once('exit', (code, signal) => {
      workers.delete(index);
      if (stopping) return;
      const f = failures.get(index) ?? { count: 0, startedAt: started };
      const count = Date.now() - started > HEALTHY_MS ? 0 : f.count;
      failures.set(index, { count: count + 1, startedAt: started });
      const delay = backoffDelay(count, { initialMs: 1_000, maxMs: 30_000, factor: 2 });
      o.logger.error({ worker: index, pid: w.process.pid, code, signal, restartInMs: delay }, 'API worker exited; starting it again');
      setTimeout(() => {
        if (!stopping) fork(index);
      }, delay);
    });
  };
  for (let i = 0; i < o.count; i++) fork(i);
  o.logger.info({ workers: o.count }, 'API workers started');
  const unsubscribe = o.hangups?.(() => {
    for (const w of workers.values()) w.process.kill('SIGHUP');
  });
  await o.stopped;
  unsubscribe?.();
  stopping = true;
  await Promise.all(
    [...workers.values()].map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.isDead()) {
            resolve();
            return;
          }
          const killer = setTimeout(() => w.process.kill('SIGKILL'), STOP_GRACE_MS);
          w.once('exit', () => {
            clearTimeout(killer);
            resolve();
          });
          w.process.kill('SIGTERM');
        }),
    ),
  );
}
