import { join } from 'node:path';
import { realClock, type Clock, type Exec, type Fs } from '../lib/index.js';
import { LabInputError } from './errors.js';
import { isLabPrefix } from './lab-names.js';
import { killNetnsProcesses, killRecorded } from './lab-processes.js';
import { labStatePath, readLabIndex, readLabState, updateLabIndex } from './lab-state.js';
import { deleteNetns, listNetns } from './netns.js';

type TeardownDeps = { readonly exec: Exec; readonly fs: Fs; readonly clock?: Clock; readonly stateDir: string };

/** Where a lab's VMs record their DHCP leases. */
export function labLeaseDir(stateDir: string, prefix: string): string {
  return join(stateDir, `leases-${prefix.replace(/-$/, '')}`);
}

/**
 * Removes every namespace whose name starts with `prefix` (killing the processes inside
 * first, by PID), then the state file, the lease directory and the index entry. Works on
 * partial builds and without a state file. Returns the namespaces removed.
 */
export async function destroyLabByPrefix(deps: TeardownDeps, prefix: string): Promise<string[]> {
  if (!isLabPrefix(prefix)) throw new LabInputError(`Invalid lab prefix: ${JSON.stringify(prefix)}`);
  const d = { exec: deps.exec, fs: deps.fs, clock: deps.clock ?? realClock() };
  const names = await listNetns(d.exec, prefix);
  if (d.fs.exists(labStatePath(deps.stateDir, prefix))) {
    const state = await readLabState(d.fs, deps.stateDir, prefix).catch(() => undefined);
    await killRecorded(d, state?.processes ?? []);
  }
  await Promise.all(names.map((n) => killNetnsProcesses(d, n)));
  await Promise.all(names.map((n) => deleteNetns(d, n)));
  await d.fs.remove(labStatePath(deps.stateDir, prefix));
  await d.fs.remove(labLeaseDir(deps.stateDir, prefix));
  if (d.fs.exists(deps.stateDir)) await updateLabIndex(d.fs, deps.stateDir, { remove: prefix });
  return names;
}

/** `destroyLabByPrefix` for every lab recorded in `stateDir` (what `brindle lab down` does). */
export async function destroyAllLabs(deps: TeardownDeps): Promise<string[]> {
  const removed: string[] = [];
  for (const prefix of await readLabIndex(deps.fs, deps.stateDir)) removed.push(...(await destroyLabByPrefix(deps, prefix)));
  return removed;
}
