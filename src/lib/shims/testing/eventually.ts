/**
 * Polls `check` every 25 ms until it passes; throws naming `what` after `timeoutMs` (default
 * 10 s; a bare number is the timeout). Resolves with how long it took, in ms.
 */
export async function eventually(check: () => boolean | Promise<boolean>, options: number | { timeoutMs?: number; what?: string } = {}): Promise<number> {
  const { timeoutMs = 10_000, what = 'condition' } = typeof options === 'number' ? { timeoutMs: options } : options;
  const t0 = performance.now();
  while (!(await check())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what} not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return performance.now() - t0;
}
