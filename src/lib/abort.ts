/** Helpers for AbortSignal-driven cancellation. */

/** The error thrown when an operation is cancelled through its AbortSignal. */
export class AbortedError extends Error {
  constructor(message = 'Operation aborted') {
    super(message);
    this.name = 'AbortedError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw new AbortedError();
}

/** Runs `onAbort` once when `signal` aborts; returns a function that detaches the listener. */
export function onAbort(signal: AbortSignal | undefined, onAbortFn: () => void): () => void {
  if (signal === undefined) return () => {};
  if (signal.aborted) {
    onAbortFn();
    return () => {};
  }
  signal.addEventListener('abort', onAbortFn, { once: true });
  return () => signal.removeEventListener('abort', onAbortFn);
}
