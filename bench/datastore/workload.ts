// Shared pieces of the datastore benchmark: the values it writes, timing, percentiles,
// progress lines (stderr) and cancellation on Ctrl-C.
import { throwIfAborted } from '../../src/lib/index.js';

/** Bytes in every value the benchmark writes. */
export const VALUE_BYTES = 300;

/** A JSON value of exactly VALUE_BYTES bytes, shaped loosely like a workload endpoint. */
export function value(i: number): string {
  const body = {
    kind: 'WorkloadEndpoint',
    name: `vm-${String(i).padStart(6, '0')}`,
    ipNetworks: [`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`],
    labels: { 'projectcalico.org/namespace': 'bench', app: 'bench' },
    pad: '',
  };
  const bare = JSON.stringify(body).length;
  return JSON.stringify({ ...body, pad: 'x'.repeat(Math.max(0, VALUE_BYTES - bare)) });
}

/** Monotonic milliseconds. */
export const now = (): number => performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? NaN;
}

/** Aborted on the first Ctrl-C / SIGTERM so finally blocks can clean up; the second one exits. */
export const stopping = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (stopping.signal.aborted) process.exit(130);
    progress('bench', `${sig}: stopping and cleaning up (again to exit now)`);
    stopping.abort();
  });
}

export function checkStop(): void {
  throwIfAborted(stopping.signal);
}

export function progress(tag: string, message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${tag}: ${message}\n`);
}
