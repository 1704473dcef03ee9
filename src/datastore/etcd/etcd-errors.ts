import { BrindleError } from '../../lib/index.js';
import { CompactedError, DatastoreUnavailableError, InvalidTxnError, LeaseNotFoundError } from '../errors.js';

/** etcd refused our credentials or permissions: not worth retrying. */
export class DatastoreAuthError extends BrindleError {
  constructor(detail: string, cause?: unknown) {
    super('DS_AUTH', `Datastore refused access: ${detail}`, {
      status: 401,
      cause,
      hint: 'Check --etcd-username/--etcd-password and the user\'s etcd role',
    });
  }
}

/** Maps whatever the etcd3 client threw into the datastore's error catalogue. */
export function mapEtcdError(err: unknown, context: { leaseId?: string; revision?: number } = {}): Error {
  if (err instanceof BrindleError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  const message = (raw.split('\n')[0] ?? raw).replace(/\.?\s*Resolution note:.*$/, '').trim();
  const name = err instanceof Error ? err.constructor.name : '';
  if (/requested lease not found|EtcdLeaseInvalid/i.test(message) || name === 'EtcdLeaseInvalidError') {
    return new LeaseNotFoundError(context.leaseId ?? 'unknown');
  }
  if (/required revision has been compacted/i.test(message)) {
    return new CompactedError(context.revision ?? 0, context.revision ?? 0);
  }
  if (/future revision/i.test(message)) return new InvalidTxnError(message);
  if (/duplicate key given in txn request/i.test(message)) return new InvalidTxnError('a key is written twice');
  if (/too many operations in txn request/i.test(message)) return new InvalidTxnError('too many operations in one transaction (etcd --max-txn-ops)');
  if (/request is too large/i.test(message)) return new InvalidTxnError('request too large (etcd --max-request-bytes)');
  if (/authentication failed|permission denied|invalid auth token|user name is empty|EtcdPermissionDenied|EtcdAuthenticationFailed/i.test(message + name)) {
    return new DatastoreAuthError(message, err);
  }
  return new DatastoreUnavailableError(message, err);
}
