import { backoffDelay, type BackoffPolicy, type Clock } from '../../lib/index.js';

/** What an attempt returns to be tried again (its compare-and-swap lost to another writer). */
export const AGAIN: unique symbol = Symbol('again');

/**
 * How many times a compare-and-swap is tried before the request gives up with a 409 the client
 * may retry. Each attempt re-reads what it depends on, so only a key written by others this
 * many times in a row, within the backoff below, exhausts it.
 */
export const CAS_ATTEMPTS = 10;

/**
 * The wait before attempt n (n ≥ 1): a random time between half and all of 2, 4, 8 … 100 ms
 * (at most 100 ms at a time, 426 ms in all before the last attempt), so writers that collided do
 * not collide again in step: enough for the busiest key, the lock that serialises subnet
 * creation across the cloud.
 */
export const CAS_BACKOFF: BackoffPolicy = { initialMs: 2, maxMs: 100, factor: 2 };

/**
 * The one compare-and-swap retry loop of the Neutron services: runs `attempt(n)` (n from 0)
 * until it returns something other than `AGAIN`, waiting `CAS_BACKOFF` between attempts; after
 * `CAS_ATTEMPTS`, returns what `exhausted()` gives (it usually throws the 409 of the resource).
 * An attempt that throws ends it at once (a fault with a reason is not retried).
 */
export async function casRetry<T>(
  d: { readonly clock: Clock; readonly random: () => number },
  exhausted: () => T,
  attempt: (n: number) => Promise<T | typeof AGAIN>,
): Promise<T> {
  for (let n = 0; n < CAS_ATTEMPTS; n++) {
    if (n > 0) await d.clock.sleep(backoffDelay(n - 1, CAS_BACKOFF, d.random));
    const r = await attempt(n);
    if (r !== AGAIN) return r;
  }
  return exhausted();
}
