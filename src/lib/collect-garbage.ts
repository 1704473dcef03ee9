import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/**
 * A full garbage collection, now (main thread paused for its length: ~100–200 ms on a heap of
 * ~150 MB live). For a process that has just finished a burst of work and wants the heap
 * compact before it serves latency-sensitive requests, rather than have V8 collect in the
 * middle of them. Process-wide; exposes V8's `gc` once.
 */
export function collectGarbage(): void {
  if (gc === undefined) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
