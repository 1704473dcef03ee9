import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/** How a child process ended. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running child process, stopped by its PID through `kill`. */
export interface ChildHandle {
  readonly pid: number;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exited: Promise<ExitStatus>;
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface RunResult extends ExitStatus {
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions extends SpawnOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
}

/** Process execution, as a seam: the only place Brindle touches node:child_process. */
export interface Exec {
  spawn(command: string, args: readonly string[], options?: SpawnOptions): ChildHandle;
  run(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
}

function spawnChild(command: string, args: readonly string[], options: SpawnOptions = {}): ChildHandle {
  const child = spawn(command, [...args], {
    cwd: options.cwd,
    env: options.env === undefined ? process.env : { ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('error', () => resolve({ code: 127, signal: null }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  if (child.pid === undefined) {
    // spawn failed (e.g. ENOENT); the 'error' handler above resolves `exited`.
    return {
      pid: -1,
      stdin: child.stdin,
      stdout: child.stdout,
      stderr: child.stderr,
      exited,
      kill: () => {},
    };
  }
  const pid = child.pid;
  return {
    pid,
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    exited,
    kill: (signal: NodeJS.Signals = 'SIGTERM') => {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    },
  };
}

async function runChild(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const child = spawnChild(command, args, options);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => {});
  child.stdin.end(options.input ?? '');
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  // 'exit' can come before the last output is read: wait for both streams to end too (bounded,
  // in case a grandchild keeps a pipe open), or the tail of the output would be lost.
  const drained = (stream: NodeJS.ReadableStream): Promise<void> =>
    new Promise((resolve) => {
      stream.once('end', resolve);
      stream.once('close', resolve);
      stream.once('error', () => resolve());
    });
  const streams = Promise.all([drained(child.stdout), drained(child.stderr)]);
  const status = await child.exited;
  await Promise.race([streams, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
  if (timer !== undefined) clearTimeout(timer);
  if (child.pid === -1) stderr += `${command}: command not found\n`;
  return { ...status, stdout, stderr };
}

export function realExec(): Exec {
  return { spawn: spawnChild, run: runChild };
}
