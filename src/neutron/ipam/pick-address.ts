import { bigIntToIp, ipToBigInt, rangeSize, type IpRange } from './ip-range.js';
import type { AllocationPool } from './subnet-plan.js';

/** Pools small enough to list every free address; above this, addresses are drawn at random. */
const ENUMERATE_LIMIT = 65_536n;
const RANDOM_TRIES = 64;

function toRanges(pools: readonly AllocationPool[]): IpRange[] {
  const out: IpRange[] = [];
  for (const p of pools) {
    const s = ipToBigInt(p.start);
    const e = ipToBigInt(p.end);
    if (s !== undefined && e !== undefined && s.family === e.family && s.value <= e.value) out.push({ family: s.family, first: s.value, last: e.value });
  }
  return out;
}

function randomBelow(n: bigint, random: () => number): bigint {
  // Combine draws for ranges wider than a double's 53 bits.
  let r = 0n;
  for (let bits = 0n; 1n << bits < n; bits += 32n) r = (r << 32n) | BigInt(Math.floor(random() * 2 ** 32));
  return r % n;
}

/** The addresses not to pick: a Set, or a view over several (no copy of a large subnet's allocations). */
export interface TakenAddresses {
  has(ip: string): boolean;
  readonly size: number;
}

/**
 * Picks a free address from the pools at random (as Neutron does, so concurrent allocators
 * rarely collide), never one in `taken`. Undefined when every address is taken.
 */
export function pickAddress(pools: readonly AllocationPool[], taken: TakenAddresses, random: () => number = Math.random): string | undefined {
  const ranges = toRanges(pools);
  const total = ranges.reduce((n, r) => n + rangeSize(r), 0n);
  if (total === 0n) return undefined;
  const at = (index: bigint): string => {
    let i = index;
    for (const r of ranges) {
      const size = rangeSize(r);
      if (i < size) return bigIntToIp(r.family, r.first + i);
      i -= size;
    }
    throw new Error('index beyond pools');
  };
  // Mostly free: a few random draws find a free address without looking at every one.
  if (BigInt(taken.size) * 2n < total) {
    for (let t = 0; t < RANDOM_TRIES; t++) {
      const ip = at(randomBelow(total, random));
      if (!taken.has(ip)) return ip;
    }
  }
  if (total <= ENUMERATE_LIMIT) {
    const free: bigint[] = [];
    for (let i = 0n; i < total; i++) if (!taken.has(at(i))) free.push(i);
    if (free.length === 0) return undefined;
    return at(free[Math.floor(random() * free.length)] ?? 0n);
  }
  const start = randomBelow(total, random);
  for (let i = 0n; i < total; i++) {
    const ip = at((start + i) % total);
    if (!taken.has(ip)) return ip;
  }
  return undefined;
}
