import { Worker } from 'node:worker_threads';
import { backoffDelay, describeError, type Clock, type Logger, type Timer } from '../lib/index.js';
import type { DhcpWorkerData, DhcpWorkerMessage } from './dhcp-worker-data.js';
import { DhcpWorkerError } from './errors.js';

export interface DhcpWorkerOptions {
  /** Everything the thread needs to run the DHCP service on its own. */
  readonly data: DhcpWorkerData;
  readonly clock: Clock;
  /** For the supervision's own lines (the thread logs for itself). */
  readonly logger: Logger;
  /** How long the first start may take before it counts as failed (default 30 s). */
  readonly startTimeoutMs?: number;
}

export interface DhcpWorker {
  /** Stops following the datastore (dnsmasq keeps running: leases and answers stay). */
  stop(): Promise<void>;
  /** How often the thread died and was started again. */
  readonly restarts: number;
}

const WORKER_MAIN = new URL('./dhcp-worker-main.js', import.meta.url);

/**
 * Runs the DHCP service (networking-calico's DHCP agent, its own process there) in a worker
 * thread of `brindle node`: its own event loop and datastore connection, so a VM's lease never
 * waits behind the dataplane's work on the main thread. Resolves once the thread has started the
 * service (rejects with DhcpWorkerError if the first start fails); a thread that dies later is
 * started again with backoff, and dnsmasq, which outlives it, is adopted.
 */
export async function startDhcpWorker(o: DhcpWorkerOptions): Promise<DhcpWorker> {
  let worker: Worker | undefined;
  let stopping = false;
  let restarts = 0;
  let failures = 0;
  let retry: Timer | undefined;

  /** Starts a thread; `onStarted` is called once: without an error when the service runs. */
  const spawn = (onStarted: (err?: Error) => void): void => {
    const w = new Worker(WORKER_MAIN, { workerData: o.data });
    worker = w;
    let started = false;
    let told = false;
    const tell = (err?: Error): void => {
      if (told) return;
      told = true;
      onStarted(err);
    };
    w.on('message', (m: DhcpWorkerMessage) => {
      if (m.type === 'started') {
        started = true;
        failures = 0;
        o.logger.debug({ dnsmasqPid: m.dnsmasqPid, threadId: w.threadId }, 'DHCP worker started');
        tell();
      } else if (m.type === 'failed') {
        tell(new DhcpWorkerError(m.message));
      }
    });
    w.on('error', (err) => {
      o.logger.error({ err: describeError(err) }, 'DHCP worker crashed');
      if (!started) tell(new DhcpWorkerError('the thread crashed while starting', err));
    });
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      if (stopping) return;
      if (!started) tell(new DhcpWorkerError(`the thread exited (code ${code}) while starting`));
      else restartLater(`the thread exited (code ${code})`);
    });
  };

  /** Starts the thread again after a backoff that grows while starts keep failing. */
  const restartLater = (why: string): void => {
    if (stopping || retry !== undefined) return;
    const delay = backoffDelay(failures++);
    restarts++;
    o.logger.error({ why, restartInMs: delay }, 'DHCP worker stopped; starting it again');
    retry = o.clock.setTimer(() => {
      retry = undefined;
      if (stopping) return;
      spawn((err) => {
        if (err !== undefined) restartLater(err.message);
      });
    }, delay);
  };

  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const timer = o.clock.setTimer(() => settle(new DhcpWorkerError(`not started within ${o.startTimeoutMs ?? 30_000} ms`)), o.startTimeoutMs ?? 30_000);
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      timer.cancel();
      if (err === undefined) resolve();
      else {
        stopping = true;
        void worker?.terminate();
        reject(err);
      }
    };
    spawn(settle);
  });

  return {
    get restarts() {
      return restarts;
    },
    stop: async () => {
      stopping = true;
      retry?.cancel();
      const w = worker;
      if (w === undefined) return;
      const done = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      w.postMessage({ type: 'stop' });
      const timer = o.clock.setTimer(() => void w.terminate(), 10_000);
      await done;
      timer.cancel();
    },
  };
}
