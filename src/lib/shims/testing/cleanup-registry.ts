import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildHandle } from '../exec.js';

/**
 * Last-resort cleanup for tests: children still running and temp dirs still present when the
 * test process exits (normally, by --test-force-exit, or on SIGTERM/SIGINT) are killed by PID
 * and removed. Tests still stop and remove what they made in their own after/finally blocks.
 */
const children = new Set<ChildHandle>();
const dirs = new Set<string>();
const namespaces = new Set<string>();
const mounts = new Set<string>();
const treeRoots = new Set<number>();
const cgroups = new Set<string>();

/** Every directory under `dir` (itself included), deepest first. */
function cgroupDirs(dir: string): string[] {
  let subs: string[];
  try {
    subs = readdirSync(dir).filter((n) => statSync(join(dir, n)).isDirectory());
  } catch {
    return [];
  }
  return [...subs.flatMap((n) => cgroupDirs(join(dir, n))), dir];
}

/** SIGKILLs every process in a cgroup (and below), then removes its directories, depth first. */
export function killCgroup(dir: string): void {
  for (let round = 0; round < 50; round++) {
    let alive = 0;
    for (const d of cgroupDirs(dir)) {
      let procs: string[];
      try {
        procs = readFileSync(join(d, 'cgroup.procs'), 'utf8')
          .split('\n')
          .filter((l) => l !== '');
      } catch {
        continue;
      }
      for (const pid of procs) {
        alive++;
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone already
        }
      }
    }
    if (alive === 0) break;
    execFileSync('sleep', ['0.1']);
  }
  for (const d of cgroupDirs(dir)) {
    try {
      rmdirSync(d);
    } catch {
      // still busy or gone
    }
  }
}
let installed = false;

function cleanUp(): void {
  for (const pid of treeRoots) {
    try {
      execFileSync('pkill', ['-KILL', '-P', String(pid)], { stdio: 'ignore' });
    } catch {
      // no children left
    }
  }
  treeRoots.clear();
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  // A container's processes outlive a killed systemd-nspawn: its cgroup holds them all.
  for (const g of cgroups) killCgroup(g);
  cgroups.clear();
  // Mounts go before the directories under them are removed (a lazy unmount: a process may still hold one).
  for (const m of [...mounts].reverse()) {
    try {
      execFileSync('umount', ['-l', m], { stdio: 'ignore' });
    } catch {
      // not mounted
    }
  }
  mounts.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
  for (const n of namespaces) {
    try {
      execFileSync('ip', ['netns', 'delete', n], { stdio: 'ignore' });
    } catch {
      // already gone
    }
    rmSync(`/etc/netns/${n}`, { recursive: true, force: true });
  }
  namespaces.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', cleanUp);
  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    process.once(signal, () => {
      cleanUp();
      process.exit(code);
    });
  }
}

export function trackChild(child: ChildHandle): void {
  install();
  children.add(child);
  void child.exited.then(() => children.delete(child));
}

/** Like trackChild, and the child's own children are killed too (a supervisor loop and what it runs). */
export function trackChildTree(child: ChildHandle): void {
  trackChild(child);
  treeRoots.add(child.pid);
  void child.exited.then(() => treeRoots.delete(child.pid));
}

export function trackTempDir(dir: string): void {
  install();
  dirs.add(dir);
}

export function untrackTempDir(dir: string): void {
  dirs.delete(dir);
}

/** A network namespace a test made: deleted on exit if the test could not delete it itself. */
export function trackNetns(name: string): void {
  install();
  namespaces.add(name);
}

export function untrackNetns(name: string): void {
  namespaces.delete(name);
}

/** A mount point a test made (an overlay): unmounted on exit, before temp dirs are removed. */
export function trackMount(path: string): void {
  install();
  mounts.add(path);
}

export function untrackMount(path: string): void {
  mounts.delete(path);
}

/** A cgroup a test made for what it runs (a simulated machine): everything in it is killed on exit. */
export function trackCgroup(path: string): void {
  install();
  cgroups.add(path);
}

export function untrackCgroup(path: string): void {
  cgroups.delete(path);
}
