/** Exponential backoff with full jitter, capped. `attempt` counts from 0. */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 5_000, factor: 2 };

export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * policy.factor ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
