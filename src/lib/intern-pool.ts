import { ownString } from './own-string.js';

/**
 * One shared copy of each string in use, counted: `take` returns the pool's copy (adding one
 * reference), `drop` lets one go, and a string leaves the pool with its last reference. For
 * strings that repeat by the thousand (105,000 nft rules have about 2,000 distinct bodies).
 */
export class InternPool {
  readonly #pool = new Map<string, { readonly s: string; n: number }>();

  get size(): number {
    return this.#pool.size;
  }

  take(s: string): string {
    const e = this.#pool.get(s);
    if (e !== undefined) {
      e.n++;
      return e.s;
    }
    const own = ownString(s);
    this.#pool.set(own, { s: own, n: 1 });
    return own;
  }

  drop(s: string): void {
    const e = this.#pool.get(s);
    if (e === undefined) return;
    e.n--;
    if (e.n <= 0) this.#pool.delete(s);
  }
}

/**
 * Shared copies of strings whose lifetime is not tracked (label values of 55,000 endpoints: a
 * few hundred distinct). Bounded: past `limit` distinct strings it starts again empty, which
 * only costs sharing, never correctness.
 */
export class StringCache {
  readonly #limit: number;
  #pool = new Map<string, string>();

  constructor(limit = 100_000) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#pool.size;
  }

  get(s: string): string {
    const have = this.#pool.get(s);
    if (have !== undefined) return have;
    if (this.#pool.size >= this.#limit) this.#pool = new Map();
    const own = ownString(s);
    this.#pool.set(own, own);
    return own;
  }
}
