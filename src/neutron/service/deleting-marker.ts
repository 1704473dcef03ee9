import { randomUUID } from 'node:crypto';
import type { Compare, TxnOp } from '../../datastore/index.js';
import { faults } from '../errors.js';
import { deletingKey, objectKey } from '../store/neutron-keys.js';
import type { NeutronDeps } from './neutron-deps.js';

type Markable = 'networks' | 'subnets' | 'security-groups';

/** How long a marker outlives a server that crashed mid-delete. */
const MARKER_TTL_SECONDS = 30;

/** The guard a write makes so it cannot land on something being deleted. */
export function notBeingDeleted(kind: Markable, id: string): Compare {
  return { key: deletingKey(kind, id), target: 'version', op: '==', value: 0 };
}

/**
 * Runs a delete under a "deleting" marker: set it (only if the object is unchanged since it was
 * read), run `body`, which checks nothing uses the object and then deletes it — its final
 * transaction must include `finish.compare` (the marker is still ours) and `finish.ops` (remove
 * it). If `body` fails the marker is removed, but only if it is still ours. The marker sits on
 * a short lease, so a server that dies mid-delete blocks nothing for long. Writes that would use
 * the object check `notBeingDeleted` in their own transaction.
 */
export async function underDeletingMarker(
  d: NeutronDeps,
  target: { kind: Markable; id: string; modRevision: number },
  body: (finish: { compare: Compare; ops: TxnOp[] }) => Promise<void>,
): Promise<void> {
  const marker = deletingKey(target.kind, target.id);
  const token = randomUUID();
  const lease = await d.kv.grantLease(MARKER_TTL_SECONDS);
  const r = await d.kv.txn({
    compare: [
      { key: objectKey(target.kind, target.id), target: 'modRevision', op: '==', value: target.modRevision },
      { key: marker, target: 'version', op: '==', value: 0 },
    ],
    success: [{ op: 'put', key: marker, value: token, lease: lease.id }],
  });
  if (!r.succeeded) {
    await d.kv.revokeLease(lease.id).catch(() => undefined);
    throw faults.conflictRetry(target.kind === 'networks' ? 'Network' : target.kind === 'subnets' ? 'Subnet' : 'Security group', target.id);
  }
  try {
    await body({ compare: { key: marker, target: 'value', op: '==', value: token }, ops: [{ op: 'delete', key: marker }] });
  } catch (err) {
    await d.kv.delete(marker, { condition: { value: token } }).catch(() => undefined);
    throw err;
  } finally {
    await d.kv.revokeLease(lease.id).catch(() => undefined);
  }
}
