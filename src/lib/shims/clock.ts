import { AbortedError } from '../abort.js';

/** A cancellable timer handle. */
export interface Timer {
  cancel(): void;
}

/**
 * Time, as a seam: production code never calls Date.now, setTimeout or performance.now directly,
 * so tests can drive time with a fake.
 */
export interface Clock {
  /** Wall-clock milliseconds since the epoch (shared between processes on one machine). */
  now(): number;
  /** Monotonic milliseconds, for measuring intervals. */
  monotonic(): number;
  /** Resolves after `ms`; rejects with AbortedError if `signal` aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /**
   * Calls `fn` after `ms` unless cancelled. The timer does not keep the process alive unless
   * `keepAlive` is set (for timers that drive work someone is waiting on, such as a watch).
   */
  setTimer(fn: () => void, ms: number, options?: { keepAlive?: boolean }): Timer;
}

export function realClock(): Clock {
  return {
    now: () => Date.now(),
    monotonic: () => performance.now(),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted === true) {
          reject(new AbortedError());
          return;
        }
        const t = setTimeout(() => {
          signal?.removeEventListener('abort', abort);
          resolve();
        }, ms);
        const abort = (): void => {
          clearTimeout(t);
          reject(new AbortedError());
        };
        signal?.addEventListener('abort', abort, { once: true });
      }),
    setTimer: (fn, ms, options) => {
      const t = setTimeout(fn, ms);
      if (options?.keepAlive !== true) t.unref();
      return { cancel: () => clearTimeout(t) };
    },
  };
}
