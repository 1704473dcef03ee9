import { fileURLToPath } from 'node:url';
import { realExec, type ExitStatus } from '../../lib/index.js';
import { trackChild } from '../../lib/testing.js';
import type { DatastoreConfig } from '../open-datastore.js';

const CHILD = fileURLToPath(new URL('./kv-child.js', import.meta.url));

/** A kv-child process: read its JSON lines, wait for it, or kill it by PID. */
export interface KvChild {
  readonly pid: number;
  /** The next JSON line, or a rejection after `timeoutMs`. */
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Waits for exit; rejects if the child failed. Returns every line it printed. */
  finish(timeoutMs?: number): Promise<Record<string, unknown>[]>;
  kill(signal?: NodeJS.Signals): Promise<ExitStatus>;
}

export function spawnKvChild(config: DatastoreConfig, args: readonly string[]): KvChild {
  const child = realExec().spawn(process.execPath, [CHILD, JSON.stringify(config), ...args]);
  trackChild(child);
  child.stdin.end();
  const lines: Record<string, unknown>[] = [];
  const all: Record<string, unknown>[] = [];
  const waiters: ((l: Record<string, unknown>) => void)[] = [];
  let buf = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>;
      buf = buf.slice(nl + 1);
      all.push(line);
      const w = waiters.shift();
      if (w === undefined) lines.push(line);
      else w(line);
    }
  });
  return {
    pid: child.pid,
    next: (timeoutMs = 10_000) => {
      const l = lines.shift();
      if (l !== undefined) return Promise.resolve(l);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`child ${child.pid} printed nothing in ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
        waiters.push((line) => {
          clearTimeout(t);
          resolve(line);
        });
        void child.exited.then((s) => {
          clearTimeout(t);
          reject(new Error(`child ${child.pid} exited (${s.code ?? s.signal}); stderr: ${stderr}`));
        });
      });
    },
    finish: async (timeoutMs = 60_000) => {
      const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const s = await child.exited;
      clearTimeout(t);
      if (s.code !== 0) throw new Error(`child ${child.pid} exited (${s.code ?? s.signal}); stderr: ${stderr}`);
      return all;
    },
    kill: async (signal = 'SIGKILL') => {
      child.kill(signal);
      return child.exited;
    },
  };
}
