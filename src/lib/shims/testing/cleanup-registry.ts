import { rmSync } from 'node:fs';
import type { ChildHandle } from '../exec.js';

/**
 * Last-resort cleanup for tests: children still running and temp dirs still present when the
 * test process exits (normally, by --test-force-exit, or on SIGTERM/SIGINT) are killed by PID
 * and removed. Tests still stop and remove what they made in their own after/finally blocks.
 */
const children = new Set<ChildHandle>();
const dirs = new Set<string>();
let installed = false;

function cleanUp(): void {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  process.once('exit', cleanUp);
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
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

export function trackTempDir(dir: string): void {
  install();
  dirs.add(dir);
}

export function untrackTempDir(dir: string): void {
  dirs.delete(dir);
}
