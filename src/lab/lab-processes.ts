import type { Clock, Exec, Fs } from '../lib/index.js';

/** Stops every process inside a lab namespace by PID (TERM, then KILL after 2 s). */
export async function killNetnsProcesses(deps: { exec: Exec; clock: Clock }, name: string): Promise<void> {
  const pids = async (): Promise<string[]> => (await deps.exec.run('ip', ['netns', 'pids', name])).stdout.split('\n').filter((p) => /^\d+$/.test(p));
  let left = await pids();
  if (left.length === 0) return;
  await deps.exec.run('kill', ['-TERM', ...left]);
  for (let i = 0; i < 40 && left.length > 0; i++) {
    await deps.clock.sleep(50);
    left = await pids();
  }
  if (left.length > 0) await deps.exec.run('kill', ['-KILL', ...left]);
}

/** Stops recorded Brindle processes by PID (only if the PID is still a Brindle process). */
export async function killRecorded(deps: { exec: Exec; fs: Fs; clock: Clock }, processes: readonly { pid: number }[]): Promise<void> {
  const alive: string[] = [];
  for (const p of processes) {
    const cmdline = await deps.fs.readText(`/proc/${p.pid}/cmdline`).catch(() => '');
    if (cmdline.includes('brindle')) alive.push(String(p.pid));
  }
  if (alive.length === 0) return;
  await deps.exec.run('kill', ['-TERM', ...alive]);
  for (let i = 0; i < 100; i++) {
    const still = [];
    for (const pid of alive) if (deps.fs.exists(`/proc/${pid}`)) still.push(pid);
    if (still.length === 0) return;
    await deps.clock.sleep(50);
  }
  await deps.exec.run('kill', ['-KILL', ...alive]);
}
