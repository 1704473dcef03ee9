import { AbortedError } from '../../abort.js';
import type { Clock, Timer } from '../clock.js';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/** A Clock whose time moves only when the test calls `advance`. Timers fire in time order. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #pending: Pending[] = [];

  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): Timer {
    const entry: Pending = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#pending.push(entry);
    return {
      cancel: () => {
        this.#pending = this.#pending.filter((p) => p !== entry);
      },
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(new AbortedError());
        return;
      }
      const timer = this.setTimer(resolve, ms);
      signal?.addEventListener(
        'abort',
        () => {
          timer.cancel();
          reject(new AbortedError());
        },
        { once: true },
      );
    });
  }

  /** Moves time forward by `ms`, firing due timers in order (and timers they schedule). */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      this.#pending.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.#pending[0];
      if (next === undefined || next.at > target) break;
      this.#pending.shift();
      this.#now = next.at;
      next.fn();
      // Let promise continuations scheduled by the timer run before the next one fires.
      await new Promise<void>((r) => setImmediate(r));
    }
    this.#now = target;
  }

  /** The number of timers still pending (for assertions that nothing leaked). */
  pendingTimers(): number {
    return this.#pending.length;
  }
}
