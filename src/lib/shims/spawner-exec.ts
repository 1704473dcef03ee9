import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { realExec, type ChildHandle, type Exec, type RunOptions, type RunResult } from './exec.js';

/** An Exec whose `run` goes through the spawner process; `close()` stops it by its PID. */
export interface SpawnerExec extends Exec {
  close(): Promise<void>;
}

const HELPER = fileURLToPath(new URL('./spawner-main.js', import.meta.url));

/**
 * Runs commands through a small long-lived helper process (`spawner-main.ts`) instead of forking
 * this one: with a process of several hundred MB, each fork costs several ms of the main thread
 * (1 s over 60 endpoint adds in bench/agent). Long-lived children (`spawn`) are still started
 * here. If the helper dies, the commands in flight fail (exit status null, `spawner exited` on
 * stderr: the caller's usual failure path, e.g. a read-back and retry) and the next command
 * starts a new helper.
 */
export function spawnerExec(o: { onStderr?: (text: string) => void } = {}): SpawnerExec {
  const base = realExec();
  let helper: ChildHandle | undefined;
  let nextId = 1;
  const pending = new Map<number, (r: RunResult) => void>();

  const start = (): ChildHandle => {
    // No heap cap of its own: a cold start's input and a read-back's output are tens of MB.
    const child = base.spawn(process.execPath, [HELPER]);
    child.stdin.on('error', () => {});
    child.stderr.setEncoding('utf8').on('data', (d: string) => o.onStderr?.(d));
    const out = createInterface({ input: child.stdout, crlfDelay: Infinity });
    out.on('line', (line) => {
      let r: RunResult & { id: number };
      try {
        r = JSON.parse(line) as RunResult & { id: number };
      } catch {
        return;
      }
      const done = pending.get(r.id);
      pending.delete(r.id);
      done?.({ code: r.code, signal: r.signal, stdout: r.stdout, stderr: r.stderr });
    });
    void child.exited.then(() => {
      if (helper === child) helper = undefined;
      for (const [id, done] of pending) {
        pending.delete(id);
        done({ code: null, signal: 'SIGKILL', stdout: '', stderr: 'spawner exited\n' });
      }
    });
    return child;
  };

  return {
    spawn: (command, args, options) => base.spawn(command, args, options),
    run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
      // Another working directory or environment than ours: fork here, as before.
      if (options.cwd !== undefined || options.env !== undefined) return base.run(command, args, options);
      helper ??= start();
      const id = nextId++;
      const child = helper;
      return new Promise((resolve) => {
        // The spawner kills a command at its timeout; this is the net under the spawner itself.
        const timer =
          options.timeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                if (!pending.delete(id)) return;
                resolve({ code: null, signal: 'SIGKILL', stdout: '', stderr: 'spawner did not answer in time\n' });
              }, options.timeoutMs + 5_000);
        pending.set(id, (r) => {
          if (timer !== undefined) clearTimeout(timer);
          resolve(r);
        });
        const req = {
          id,
          command,
          args,
          ...(options.input === undefined ? {} : { input: options.input }),
          ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
        };
        child.stdin.write(`${JSON.stringify(req)}\n`);
      });
    },
    async close(): Promise<void> {
      const child = helper;
      helper = undefined;
      if (child === undefined) return;
      child.stdin.end();
      const exited = await Promise.race([child.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2_000).unref())]);
      if (!exited) child.kill('SIGKILL');
    },
  };
}
