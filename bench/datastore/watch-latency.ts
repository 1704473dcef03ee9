// Watch latency across processes: a watch-child process watches a prefix; this process waits
// until the child has seen a probe key it wrote (so the watch is live end to end), then puts
// keys one at a time and compares Date.now() before each put with Date.now() in the child
// when the event arrived.
import { fileURLToPath } from 'node:url';
import type { DatastoreConfig } from '../../src/datastore/index.js';
import type { KvStore } from '../../src/datastore/index.js';
import { realExec, type ChildHandle } from '../../src/lib/index.js';
import { checkStop, percentile, progress, sleep, value } from './workload.js';

const CHILD = fileURLToPath(new URL('./watch-child.js', import.meta.url));

export interface WatchFigures {
  readonly events: number;
  readonly intervalMs: number;
  readonly missed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

type Line = Record<string, unknown>;

/** Collects the child's JSON lines; `waitFor` resolves once `test(lines)` holds. */
function readLines(child: ChildHandle): { lines: Line[]; waitFor(what: string, test: (l: Line[]) => boolean, timeoutMs: number): Promise<void> } {
  const lines: Line[] = [];
  const listeners = new Set<() => void>();
  let buf = '';
  let stderr = '';
  let exited = false;
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, nl)) as Line);
      buf = buf.slice(nl + 1);
    }
    for (const l of [...listeners]) l();
  });
  void child.exited.then(() => {
    exited = true;
    for (const l of [...listeners]) l();
  });
  const waitFor = (what: string, test: (l: Line[]) => boolean, timeoutMs: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const finish = (fn: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        fn();
      };
      const check = (): void => {
        if (test(lines)) finish(resolve);
        else if (exited) finish(() => reject(new Error(`watch child ${child.pid} exited before ${what}; stderr: ${stderr}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`watch child ${child.pid}: no ${what} in ${timeoutMs} ms; stderr: ${stderr}`))), timeoutMs);
      listeners.add(check);
      check();
    });
  return { lines, waitFor };
}

export async function measureWatch(
  store: KvStore,
  config: DatastoreConfig,
  tag: string,
  prefix: string,
  events: number,
  intervalMs: number,
): Promise<WatchFigures> {
  progress(tag, `watch latency: ${events} puts ~${intervalMs} ms apart, watched by another process ...`);
  const child = realExec().spawn(process.execPath, [CHILD, JSON.stringify(config), prefix, String(events)]);
  child.stdin.end();
  let exited = false;
  void child.exited.then(() => (exited = true));
  try {
    const reader = readLines(child);
    const { lines } = reader;
    await reader.waitFor('watch', (ls) => ls.some((l) => l.watching === true), 15_000);
    await store.put(`${prefix}ready`, 'probe');
    await reader.waitFor('readiness', (ls) => ls.some((l) => l.ready === true), 15_000);

    const sent = new Map<string, number>();
    for (let i = 0; i < events; i++) {
      checkStop();
      const key = `${prefix}${String(i).padStart(6, '0')}`;
      sent.set(key, Date.now());
      await store.put(key, value(i));
      await sleep(intervalMs);
    }
    const seenAll = (ls: Line[]): boolean => ls.filter((l) => typeof l.key === 'string').length >= events;
    await reader.waitFor('all events', seenAll, 10_000).catch((err: unknown) => progress(tag, `  ${String(err)}`));

    const latencies = lines
      .filter((l): l is { key: string; at: number } => typeof l.key === 'string' && typeof l.at === 'number')
      .map((l) => l.at - (sent.get(l.key) ?? NaN))
      .filter((ms) => !Number.isNaN(ms))
      .sort((a, b) => a - b);
    const figures = {
      events,
      intervalMs,
      missed: events - latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies[latencies.length - 1] ?? NaN,
      meanMs: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    };
    progress(tag, `  p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, max ${figures.maxMs} ms, missed ${figures.missed}`);
    return figures;
  } finally {
    if (!exited) child.kill('SIGKILL');
    await child.exited;
  }
}
