import { objectKey, fipPortPrefix } from '../store/neutron-keys.js';
import { encodeRecord } from '../store/neutron-store.js';
import { AGAIN, casRetry } from './cas-retry.js';
import { timestamp, type NeutronDeps } from './neutron-deps.js';

/**
 * Lets go of every floating IP associated with a port (it is being deleted): each floating IP
 * stays allocated with no port, and the association key goes in the same transaction. A floating
 * IP that has meanwhile moved elsewhere only loses the stale key.
 */
export async function disassociatePort(d: NeutronDeps, portId: string): Promise<void> {
  const { items } = await d.kv.list(fipPortPrefix(portId));
  for (const link of items) {
    // Out of attempts, the stale key is left to the resync.
    await casRetry(
      d,
      () => undefined,
      async () => {
        const fip = await d.store.get('floatingips', link.value);
        const stillOurs = fip !== undefined && fip.record.port_id === portId;
        const r = await d.kv.txn({
          compare: [
            { key: link.key, target: 'modRevision', op: '==', value: link.modRevision },
            fip === undefined
              ? { key: objectKey('floatingips', link.value), target: 'version', op: '==', value: 0 }
              : { key: objectKey('floatingips', link.value), target: 'modRevision', op: '==', value: fip.modRevision },
          ],
          success: [
            { op: 'delete', key: link.key },
            ...(stillOurs
              ? [
                  {
                    op: 'put' as const,
                    key: objectKey('floatingips', fip.record.id),
                    value: encodeRecord({
                      ...fip.record,
                      port_id: null,
                      fixed_ip_address: null,
                      router_id: null,
                      status: 'DOWN',
                      revision_number: fip.record.revision_number + 1,
                      updated_at: timestamp(d.clock),
                    }),
                  },
                ]
              : []),
          ],
        });
        if (r.succeeded) return undefined;
        // The key itself changed or went: someone else dealt with this association.
        if ((await d.kv.get(link.key))?.modRevision !== link.modRevision) return undefined;
        return AGAIN;
      },
    );
  }
}
