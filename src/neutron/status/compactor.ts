import { CompactedError, LeaseNotFoundError, type KvStore } from '../../datastore/index.js';
import { COMPACTION_LAST_KEY, COMPACTION_TRIGGER_KEY } from '../../model/index.js';

export interface CompactionCheckOptions {
  readonly kv: KvStore;
  /** How often to compact (networking-calico's `etcd_compaction_period_mins`, 60 min). */
  readonly periodSeconds: number;
  /** History always kept (networking-calico's `etcd_compaction_min_revisions`, 1,000). */
  readonly minRevisions: number;
  /** Written as the trigger key's value, for whoever looks. */
  readonly owner: string;
}

/** What one check did: not due yet, due but nothing to compact, or compacted up to a revision. */
export type CompactionCheck =
  | { readonly outcome: 'not-due' }
  | { readonly outcome: 'nothing-to-do'; readonly revision: number }
  | { readonly outcome: 'compacted'; readonly compactedTo: number; readonly revision: number }
  | { readonly outcome: 'already-compacted'; readonly revision: number };

/**
 * networking-calico's `check_request_etcd_compaction`, for the elected API server:
 * - the trigger key, on a lease of one period, is the timer: while it exists, nothing is due;
 * - the last key holds the revision compacted to last, and its mod revision says when the last
 *   check ran;
 * - when due, compact at `current − max(minRevisions, current − lastCheck)` (so everything
 *   since the previous check, and at least `minRevisions`, stays watchable), only if that is
 *   past the last compaction; if etcd refuses because someone compacted further, record the
 *   current revision.
 * A bogus state (a trigger without a lease, a last revision past the current one) is repaired.
 */
export async function checkCompaction(o: CompactionCheckOptions): Promise<CompactionCheck> {
  const trigger = await o.kv.get(COMPACTION_TRIGGER_KEY);
  if (trigger !== undefined) {
    if (trigger.lease !== undefined) return { outcome: 'not-due' };
    // A trigger that never expires would stop compaction for good.
    await o.kv.delete(COMPACTION_TRIGGER_KEY, { condition: { modRevision: trigger.modRevision } });
  }
  const lease = await o.kv.grantLease(o.periodSeconds);
  const armed = await o.kv.put(COMPACTION_TRIGGER_KEY, o.owner, { lease: lease.id, condition: { absent: true } });
  if (!armed.succeeded) {
    await o.kv.revokeLease(lease.id).catch((err: unknown) => {
      if (!(err instanceof LeaseNotFoundError)) throw err;
    });
    return { outcome: 'not-due' };
  }
  const last = await o.kv.get(COMPACTION_LAST_KEY);
  const current = await o.kv.revision();
  const recorded = Number(last?.value ?? '0');
  const lastCompacted = Number.isSafeInteger(recorded) && recorded >= 0 && recorded <= current ? recorded : 0;
  const lastCheck = last?.modRevision ?? 0;
  const target = current - Math.max(o.minRevisions, current - lastCheck);
  if (target <= lastCompacted) {
    await o.kv.put(COMPACTION_LAST_KEY, String(lastCompacted));
    return { outcome: 'nothing-to-do', revision: current };
  }
  try {
    await o.kv.compact(target);
  } catch (err) {
    if (!(err instanceof CompactedError)) throw err;
    await o.kv.put(COMPACTION_LAST_KEY, String(current));
    return { outcome: 'already-compacted', revision: current };
  }
  await o.kv.put(COMPACTION_LAST_KEY, String(target));
  return { outcome: 'compacted', compactedTo: target, revision: current };
}
