import { BrindleError } from '../../lib/index.js';
import { CompactedError, DatastoreUnavailableError, InvalidTxnError, LeaseNotFoundError } from '../errors.js';

/** etcd refused our credentials or permissions: not worth retrying. */
export class DatastoreAuthError extends BrindleError {
  constructor(detail: string, cause?: unknown) {
    super('DS_AUTH', `Datastore refused access: ${detail}`, {
      status: 401,
      cause,
      hint: "Check --etcd-username/--etcd-password and the user's etcd role",
    });
  }
}

/** A call or stream of ours that got no answer in time (inside this module only; leaves as DatastoreUnavailableError). */
export class CallTimedOutError extends Error {}

/**
 * What a failed call says about the member: `answer` (etcd answered, with an error: final),
 * `unsent` (the request never reached a member that could act on it: safe to send elsewhere),
 * `lost` (the connection failed with the request possibly applied) or `timeout` (no answer in
 * time: as `lost`, and the connection may be half-open).
 */
export type EtcdFailure = 'answer' | 'unsent' | 'lost' | 'timeout';

export function classifyEtcdFailure(err: unknown): EtcdFailure {
  if (err instanceof CallTimedOutError) return 'timeout';
  if (err instanceof BrindleError) return 'answer';
  const text = err instanceof Error ? `${err.constructor.name} ${err.message}` : String(err);
  if (/DEADLINE_EXCEEDED|Deadline exceeded|DeadlineExceeded/i.test(text)) return 'timeout';
  if (
    /No connection established|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|Failed to connect|name resolution|etcdserver: no leader|etcdserver: not capable/i.test(
      text,
    )
  )
    return 'unsent';
  if (
    /UNAVAILABLE|GRPCUnavailable|CANCELLED|GRPCCancelled|ClientClosed|ECONNRESET|EPIPE|Connection dropped|GOAWAY|etcdserver: (request timed out|leader changed|server stopped)/i.test(
      text,
    )
  )
    return 'lost';
  return 'answer';
}

/** Maps whatever the etcd3 client threw into the datastore's error catalogue. */
export function mapEtcdError(err: unknown, context: { leaseId?: string; revision?: number } = {}): Error {
  if (err instanceof BrindleError) return err;
  if (err instanceof CallTimedOutError) return new DatastoreUnavailableError(err.message, err);
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
