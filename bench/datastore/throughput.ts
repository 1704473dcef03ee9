// Write and list throughput against one open KvStore: sequential puts, puts with a fixed
// number in flight, and a bulk load (transactions) of many keys followed by timed lists.
import type { KvStore, TxnOp } from '../../src/datastore/index.js';
import { checkStop, now, progress, value } from './workload.js';

export interface PutFigures {
  readonly n: number;
  readonly inFlight: number;
  readonly seconds: number;
  readonly perSecond: number;
}

/** `n` puts of distinct keys under `prefix`, `inFlight` at a time (1 = strictly sequential). */
export async function measurePuts(store: KvStore, tag: string, prefix: string, n: number, inFlight: number): Promise<PutFigures> {
  progress(tag, `${n} puts, ${inFlight} in flight ...`);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < n; i = next++) {
      if (i % 500 === 0) checkStop();
      await store.put(`${prefix}${String(i).padStart(6, '0')}`, value(i));
    }
  };
  const t0 = now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (now() - t0) / 1000;
  progress(tag, `  ${Math.round(n / seconds)} puts/s`);
  return { n, inFlight, seconds, perSecond: n / seconds };
}

export interface ListFigures {
  readonly keys: number;
  readonly txnSize: number;
  readonly loadSeconds: number;
  readonly listRuns: number;
  /** Each list's time, in run order. */
  readonly listSeconds: readonly number[];
  readonly bestListSeconds: number;
  readonly keysPerSecond: number;
}

/** Loads `keys` keys under `prefix` in transactions of `txnSize` puts, then lists the prefix `runs` times. */
export async function measureList(store: KvStore, tag: string, prefix: string, keys: number, txnSize: number, runs: number): Promise<ListFigures> {
  progress(tag, `loading ${keys} keys in transactions of ${txnSize} ...`);
  const t0 = now();
  for (let start = 0; start < keys; start += txnSize) {
    checkStop();
    const success: TxnOp[] = [];
    for (let i = start; i < Math.min(keys, start + txnSize); i++) {
      success.push({ op: 'put', key: `${prefix}${String(i).padStart(7, '0')}`, value: value(i) });
    }
    await store.txn({ compare: [], success });
    const done = start + success.length;
    if (done % 20_000 === 0) progress(tag, `  loaded ${done}/${keys}`);
  }
  const loadSeconds = (now() - t0) / 1000;
  progress(tag, `  load took ${loadSeconds.toFixed(1)} s`);

  const listSeconds: number[] = [];
  for (let run = 1; run <= runs; run++) {
    checkStop();
    const t1 = now();
    const r = await store.list(prefix);
    const s = (now() - t1) / 1000;
    if (r.items.length !== keys) throw new Error(`${tag}: list returned ${r.items.length} keys, expected ${keys}`);
    listSeconds.push(s);
    progress(tag, `  list ${run}/${runs}: ${s.toFixed(3)} s`);
  }
  const best = Math.min(...listSeconds);
  return { keys, txnSize, loadSeconds, listRuns: runs, listSeconds, bestListSeconds: best, keysPerSecond: keys / best };
}
