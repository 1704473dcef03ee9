import type { ChildHandle, Exec, RunOptions, RunResult, SpawnOptions } from './shims/exec.js';

/**
 * An Exec whose every command runs inside network namespace `netns` (through `ip netns exec`).
 * The agent uses it when told `--netns`: the lab runs one agent per simulated host this way, so
 * no kernel command can reach the machine's own namespace. Undefined `netns` = the exec as is.
 */
export function netnsExec(exec: Exec, netns: string | undefined): Exec {
  if (netns === undefined) return exec;
  const wrap = (command: string, args: readonly string[]): [string, string[]] => ['ip', ['netns', 'exec', netns, command, ...args]];
  return {
    spawn(command: string, args: readonly string[], options?: SpawnOptions): ChildHandle {
      const [c, a] = wrap(command, args);
      return exec.spawn(c, a, options);
    },
    run(command: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
      const [c, a] = wrap(command, args);
      return exec.run(c, a, options);
    },
  };
}
