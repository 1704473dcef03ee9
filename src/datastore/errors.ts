import { BrindleError } from '../lib/index.js';

/** The datastore cannot be reached (or timed out). Retrying later may succeed. */
export class DatastoreUnavailableError extends BrindleError {
  constructor(detail: string, cause?: unknown) {
    super('DS_UNAVAILABLE', `Datastore unavailable: ${detail}`, {
      status: 503,
      recoverable: true,
      cause,
      hint: 'Check --datastore (BRINDLE_DATASTORE) and that etcd is running and reachable',
    });
  }
}

/** A watch asked for history that compaction has removed; re-list, then watch again. */
export class CompactedError extends BrindleError {
  readonly compactRevision: number;
  constructor(requested: number, compactRevision: number) {
    super('DS_COMPACTED', `Revision ${requested} has been compacted (history starts at ${compactRevision})`, {
      status: 410,
      recoverable: true,
    });
    this.compactRevision = compactRevision;
  }
}

export class LeaseNotFoundError extends BrindleError {
  constructor(id: string) {
    super('DS_LEASE_NOT_FOUND', `Lease ${id} not found (expired or revoked)`, { status: 404 });
  }
}

/** A transaction the store refuses as malformed (e.g. the same key written twice). */
export class InvalidTxnError extends BrindleError {
  constructor(detail: string) {
    super('DS_INVALID_TXN', `Invalid transaction: ${detail}`, { status: 400 });
  }
}

/** A --datastore setting that cannot be used. */
export class DatastoreConfigError extends BrindleError {
  constructor(detail: string, cause?: unknown) {
    super('DS_CONFIG', `Invalid datastore configuration: ${detail}`, {
      status: 400,
      cause,
      hint: 'Use --datastore embedded:PATH or --datastore etcd:http://HOST:PORT[,URL...]',
    });
  }
}

/** The resource does not exist (HTTP 404). */
export class ResourceNotFoundError extends BrindleError {
  constructor(what: string) {
    super('DS_NOT_FOUND', `${what} not found`, { status: 404 });
  }
}

/** Create of something that exists (HTTP 409). */
export class ResourceExistsError extends BrindleError {
  constructor(what: string) {
    super('DS_EXISTS', `${what} already exists`, { status: 409 });
  }
}

/** A compare-and-swap lost to a concurrent writer (HTTP 409); re-read and retry. */
export class ResourceConflictError extends BrindleError {
  constructor(what: string, detail: string) {
    super('DS_CONFLICT', `${what} was modified concurrently: ${detail}`, { status: 409, recoverable: true });
  }
}

/** A stored value that does not decode or validate; treated as absent by consumers. */
export class InvalidStoredValueError extends BrindleError {
  constructor(key: string, detail: string, cause?: unknown) {
    super('DS_BAD_VALUE', `Stored value at ${key} is invalid: ${detail}`, { status: 500, cause });
  }
}
