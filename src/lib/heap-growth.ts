import { setFlagsFromString } from 'node:v8';

/**
 * Makes V8 keep its heap close to what is live: after each full collection the old space may
 * grow to `1 + percent/100` times the live size before the next (V8's default lets it reach up
 * to 4x). For a long-running process with a large, steady live set (the agent at 55,000
 * endpoints holds ~150 MB) this is the difference between ~300 and ~450 MB resident, at the cost
 * of more frequent collections, so a process sets it once its bulk work is done. Takes effect
 * from the next collection; process-wide.
 */
export function limitHeapGrowth(percent: number): void {
  if (!Number.isInteger(percent) || percent < 1) throw new RangeError(`heap growth percent must be a positive integer, not ${percent}`);
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
