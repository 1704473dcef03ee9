import { randomBytes } from 'node:crypto';
import { realExec, type RunResult } from '../exec.js';
import { trackNetns, untrackNetns } from './cleanup-registry.js';

/** A throwaway network namespace for a test: run commands in it, then `remove()` it. */
export interface TestNetns {
  readonly name: string;
  /** Runs a command inside; the result whatever the exit status. */
  run(command: string, args: readonly string[], input?: string): Promise<RunResult>;
  /** Runs a command inside and throws (with stderr) if it fails; returns stdout. */
  must(command: string, args: readonly string[], input?: string): Promise<string>;
  remove(): Promise<void>;
}

/**
 * Makes a namespace named `<prefix>-<random>` with loopback up, registered for deletion at exit
 * even if the test fails before its own cleanup.
 */
export async function makeTestNetns(prefix: string): Promise<TestNetns> {
  const exec = realExec();
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  trackNetns(name);
  const add = await exec.run('ip', ['netns', 'add', name]);
  if (add.code !== 0) throw new Error(`ip netns add ${name}: ${add.stderr}`);
  const run = (command: string, args: readonly string[], input?: string): Promise<RunResult> =>
    exec.run('ip', ['netns', 'exec', name, command, ...args], input === undefined ? {} : { input });
  const must = async (command: string, args: readonly string[], input?: string): Promise<string> => {
    const r = await run(command, args, input);
    if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} in ${name}: exit ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  await must('ip', ['link', 'set', 'lo', 'up']);
  return {
    name,
    run,
    must,
    remove: async () => {
      await exec.run('ip', ['netns', 'delete', name]);
      untrackNetns(name);
    },
  };
}
