import { onAbort } from '../lib/index.js';
import type { Watch, WatchBatch } from './kv-store.js';

/**
 * The buffered async iterator behind both backends' watches: the backend pushes batches or a
 * failure; the consumer iterates. Closing (by the consumer, or its AbortSignal) ends iteration
 * and tells the backend to stop through `onClose`.
 */
export class WatchQueue implements Watch {
  readonly #batches: WatchBatch[] = [];
  #failure: Error | undefined;
  #closed = false;
  #waiter: { resolve: (r: IteratorResult<WatchBatch>) => void; reject: (e: Error) => void } | undefined;
  readonly #onClose: () => void;
  readonly #detach: () => void;
  #markReady: (inPlace: boolean) => void = () => {};
  readonly ready: Promise<boolean> = new Promise<boolean>((resolve) => (this.#markReady = resolve));

  constructor(onClose: () => void, signal?: AbortSignal) {
    this.#onClose = onClose;
    if (signal?.aborted === true) {
      queueMicrotask(() => this.close());
      this.#detach = () => {};
    } else {
      // Detached when the watch ends, so a long-lived signal does not collect listeners.
      this.#detach = onAbort(signal, () => this.close());
    }
  }

  /** The backend has the watch in place (see `Watch.ready`). */
  established(): void {
    this.#markReady(true);
  }

  get closed(): boolean {
    return this.#closed || this.#failure !== undefined;
  }

  push(batch: WatchBatch): void {
    if (this.closed) return;
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w.resolve({ value: batch, done: false });
    } else {
      this.#batches.push(batch);
    }
  }

  /** Ends the watch with an error, delivered after any batches already queued. */
  fail(err: Error): void {
    if (this.closed) return;
    this.#failure = err;
    this.#markReady(false);
    this.#detach();
    this.#onClose();
    const w = this.#waiter;
    if (w !== undefined && this.#batches.length === 0) {
      this.#waiter = undefined;
      w.reject(err);
    }
  }

  close(): void {
    if (this.#closed) return;
    const wasFailed = this.#failure !== undefined;
    this.#closed = true;
    this.#markReady(false);
    this.#batches.length = 0;
    this.#detach();
    if (!wasFailed) this.#onClose();
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchBatch> {
    return {
      next: () => {
        const batch = this.#batches.shift();
        if (batch !== undefined) return Promise.resolve({ value: batch, done: false });
        if (this.#closed) return Promise.resolve({ value: undefined, done: true });
        if (this.#failure !== undefined) {
          const err = this.#failure;
          this.#closed = true;
          return Promise.reject(err);
        }
        return new Promise((resolve, reject) => {
          this.#waiter = { resolve, reject };
        });
      },
      return: () => {
        this.close();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
