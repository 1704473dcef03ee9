import { faults, type ResourceName } from '../errors.js';
import type { NeutronCollection } from '../store/neutron-keys.js';
import type { RecordTypes, Stored } from '../store/neutron-store.js';
import { casRetry, type AGAIN } from './cas-retry.js';
import type { NeutronDeps } from './neutron-deps.js';

/** Which record an update changes, and what to call it in faults. */
export interface UpdateTarget<C extends NeutronCollection> {
  readonly collection: C;
  readonly id: string;
  /** `If-Match: revision_number=N`: refused with a 412 unless the record is at N. */
  readonly ifRevision: number | undefined;
  /** Its name in a 404. */
  readonly resource: ResourceName;
  /** Its name in the 409 after the retries run out (default: `resource`). */
  readonly conflictName?: string;
}

/**
 * The update loop every resource shares: each attempt reads the record (404 when it is gone),
 * checks `If-Match`, then runs `attempt` with it; `AGAIN` (a lost compare-and-swap) reads and
 * tries again, as `casRetry` does, ending in the resource's 409.
 */
export function casUpdate<C extends NeutronCollection, T>(
  d: NeutronDeps,
  target: UpdateTarget<C>,
  attempt: (cur: Stored<RecordTypes[C]>, n: number) => Promise<T | typeof AGAIN>,
): Promise<T> {
  const { collection, id, ifRevision, resource } = target;
  return casRetry(
    d,
    () => {
      throw faults.conflictRetry(target.conflictName ?? resource, id);
    },
    async (n) => {
      const cur = await d.store.get(collection, id);
      if (cur === undefined) throw faults.notFound(resource, id);
      const revision = (cur.record as { revision_number: number }).revision_number;
      if (ifRevision !== undefined && revision !== ifRevision) throw faults.revisionConflict(ifRevision, revision);
      return attempt(cur, n);
    },
  );
}
