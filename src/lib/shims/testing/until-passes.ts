/**
 * Runs `check` (which asserts) every 100 ms until it no longer throws; after `timeoutMs`
 * (default 10 s) rethrows its last error, so a failure reads as the assertion that kept failing.
 * Resolves with how long it took, in ms.
 */
export async function untilPasses(check: () => Promise<void> | void, options: { timeoutMs?: number } = {}): Promise<number> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const t0 = performance.now();
  for (;;) {
    try {
      await check();
      return performance.now() - t0;
    } catch (err) {
      if (performance.now() - t0 > timeoutMs) throw err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
