// Shared by the lab benchmarks (bench/bgp, bench/boot): a last-resort cleanup on process exit.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '../src/lab/index.js';

/**
 * If this process exits before the lab is destroyed (a second Ctrl-C, an uncaught error): kills
 * the lab's recorded processes and everything in its namespaces by PID, deletes the namespaces.
 */
export function exitGuard(lab: Lab): () => void {
  const handler = (): void => {
    const kill = (pid: number): void => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    };
    try {
      const state = JSON.parse(readFileSync(lab.stateFile, 'utf8')) as { processes?: { pid: number }[] };
      for (const p of state.processes ?? []) kill(p.pid);
    } catch {
      // no state file
    }
    let names: string[] = [];
    try {
      names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
        .split('\n')
        .map((l) => l.split(' ')[0] ?? '')
        .filter((n) => n.startsWith(lab.prefix));
    } catch {
      // none
    }
    for (const ns of names) {
      try {
        for (const pid of execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
          .split('\n')
          .map(Number)
          .filter((n) => n > 0))
          kill(pid);
      } catch {
        // none
      }
      try {
        execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
      } catch {
        // gone
      }
      rmSync(join('/etc/netns', ns), { recursive: true, force: true });
    }
  };
  process.on('exit', handler);
  return () => process.off('exit', handler);
}
