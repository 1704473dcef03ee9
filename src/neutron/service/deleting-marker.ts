import { faults } from '../errors.js';
import { deletingKey, objectKey } from '../store/neutron-keys.js';
import type { NeutronDeps } from './neutron-deps.js';

/**
 * Runs a delete under a "deleting" marker: set it (only if the object is unchanged since it was
 * read), run `body` (which checks nothing uses the object, then deletes it and the marker), and
 * clear the marker if `body` fails. Port creation refuses to use a marked network or subnet.
 */
export async function underDeletingMarker(
  d: NeutronDeps,
  target: { kind: 'networks' | 'subnets'; id: string; modRevision: number },
  body: () => Promise<void>,
): Promise<void> {
  const marker = deletingKey(target.kind, target.id);
  const r = await d.kv.txn({
    compare: [{ key: objectKey(target.kind, target.id), target: 'modRevision', op: '==', value: target.modRevision }],
    success: [{ op: 'put', key: marker, value: String(d.clock.now()) }],
  });
  if (!r.succeeded) throw faults.conflictRetry(target.kind === 'networks' ? 'Network' : 'Subnet', target.id);
  try {
    await body();
  } catch (err) {
    await d.kv.delete(marker);
    throw err;
  }
}
