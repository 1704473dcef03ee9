/**
 * The one key-value interface Brindle's datastore offers, with etcd v3 semantics. Two backends
 * implement it (etcd and embedded) and pass the same contract suite (kv-contract.ts).
 *
 * Revisions: every write transaction that changes something gets the next cluster revision;
 * a key carries the revision that created it, the one that last modified it, and a version
 * (1 on create, +1 per put; 0 means absent).
 */

/** An etcd lease id, as a decimal string (etcd ids are 64-bit). */
export type LeaseId = string;

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  readonly lease: LeaseId | undefined;
}

/** A guard evaluated inside a transaction (etcd's Compare). Comparing the value of an absent key is always false. */
export type Compare =
  | {
      readonly key: string;
      readonly target: 'version' | 'createRevision' | 'modRevision';
      readonly op: '==' | '!=' | '<' | '>';
      readonly value: number;
    }
  | { readonly key: string; readonly target: 'value'; readonly op: '==' | '!='; readonly value: string };

export type TxnOp =
  | {
      readonly op: 'put';
      readonly key: string;
      readonly value: string;
      readonly lease?: LeaseId;
      /** Return the key as it was before (`TxnOpResult.previous`); off by default, as etcd's `prev_kv` (it costs a read and its transfer). */
      readonly returnPrevious?: boolean;
    }
  | { readonly op: 'delete'; readonly key: string }
  | { readonly op: 'deletePrefix'; readonly prefix: string }
  | { readonly op: 'get'; readonly key: string };

export type TxnOpResult =
  /** `previous` is the key before the put when the op asked for it (`returnPrevious`), else undefined. */
  | { readonly op: 'put'; readonly previous: KeyValue | undefined }
  | { readonly op: 'delete'; readonly deleted: number }
  | { readonly op: 'deletePrefix'; readonly deleted: number }
  | { readonly op: 'get'; readonly kv: KeyValue | undefined };

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly TxnOp[];
  readonly failure?: readonly TxnOp[];
}

export interface TxnResult {
  readonly succeeded: boolean;
  /** The store's revision after the transaction. */
  readonly revision: number;
  readonly results: readonly TxnOpResult[];
}

/** The condition of a single put or delete. */
export type WriteCondition = { readonly absent: true } | { readonly present: true } | { readonly modRevision: number } | { readonly value: string };

export interface WriteOptions {
  readonly condition?: WriteCondition;
}

export interface PutOptions extends WriteOptions {
  readonly lease?: LeaseId;
}

export interface WriteResult {
  readonly succeeded: boolean;
  readonly revision: number;
  /** The key as it stood before the write (or, when the condition failed, as it stands now). */
  readonly current: KeyValue | undefined;
}

export interface ListResult {
  readonly items: readonly KeyValue[];
  /** The revision at which the listing is consistent; watch from `revision + 1` to follow it. */
  readonly revision: number;
}

export type WatchEvent = { readonly type: 'put'; readonly kv: KeyValue } | { readonly type: 'delete'; readonly key: string; readonly modRevision: number };

/** All events of one revision that fall under the watched prefix, in order. */
export interface WatchBatch {
  readonly revision: number;
  readonly events: readonly WatchEvent[];
}

/**
 * A watch: iterate its batches. The iterator throws CompactedError when the requested history
 * is gone and DatastoreUnavailableError when the connection is lost; it ends after `close()`.
 */
export interface Watch extends AsyncIterable<WatchBatch> {
  close(): void;
  /**
   * Resolves once the watch is in place in the datastore: every change from then on (and, with
   * a `fromRevision`, from that revision) will be delivered. A caller that must not miss a
   * change it is about to make awaits this instead of sleeping. Also resolves if the watch ends
   * first (its failure comes through iteration), so awaiting it never hangs: `true` if the
   * watch got in place, `false` if it ended first.
   */
  readonly ready: Promise<boolean>;
}

export interface WatchOptions {
  /** The first revision to deliver (inclusive). */
  readonly fromRevision: number;
  readonly signal?: AbortSignal;
}

export interface LeaseGrant {
  readonly id: LeaseId;
  readonly ttlSeconds: number;
}

export interface KvStore {
  /** `etcd` or `embedded`, for status output. */
  readonly backend: 'etcd' | 'embedded';
  get(key: string): Promise<KeyValue | undefined>;
  /** Every key starting with `prefix` (all keys for ''), sorted by key, at one revision. */
  list(prefix: string): Promise<ListResult>;
  put(key: string, value: string, options?: PutOptions): Promise<WriteResult>;
  delete(key: string, options?: WriteOptions): Promise<WriteResult>;
  deletePrefix(prefix: string): Promise<{ readonly deleted: number; readonly revision: number }>;
  txn(request: TxnRequest): Promise<TxnResult>;
  watch(prefix: string, options: WatchOptions): Watch;
  grantLease(ttlSeconds: number): Promise<LeaseGrant>;
  /** Renews a lease; returns its TTL. Throws LeaseNotFoundError once it has expired. */
  keepAliveLease(id: LeaseId): Promise<number>;
  /** Revokes a lease, deleting its keys. Revoking an unknown lease is not an error. */
  revokeLease(id: LeaseId): Promise<void>;
  /** Drops history before `revision`; watches from earlier revisions then fail as compacted. */
  compact(revision: number): Promise<void>;
  /** The current revision. */
  revision(): Promise<number>;
  close(): Promise<void>;
}

/** The end of the key range covering every key that starts with `prefix` ('' for no end). */
export function prefixEnd(prefix: string): string {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const code = prefix.charCodeAt(i);
    if (code < 0xffff) return prefix.slice(0, i) + String.fromCharCode(code + 1);
  }
  return '';
}

/** A conditional put as a transaction: the shared implementation of `KvStore.put`. */
export async function putViaTxn(kv: Pick<KvStore, 'txn'>, key: string, value: string, options: PutOptions = {}): Promise<WriteResult> {
  const put: TxnOp =
    options.lease === undefined ? { op: 'put', key, value, returnPrevious: true } : { op: 'put', key, value, lease: options.lease, returnPrevious: true };
  const r = await kv.txn({ compare: conditionCompares(key, options.condition), success: [put], failure: [{ op: 'get', key }] });
  const first = r.results[0];
  const current = first?.op === 'put' ? first.previous : first?.op === 'get' ? first.kv : undefined;
  return { succeeded: r.succeeded, revision: r.revision, current };
}

/** A conditional delete as a transaction: the shared implementation of `KvStore.delete`. */
export async function deleteViaTxn(kv: Pick<KvStore, 'txn'>, key: string, options: WriteOptions = {}): Promise<WriteResult> {
  const r = await kv.txn({
    compare: conditionCompares(key, options.condition),
    success: [
      { op: 'get', key },
      { op: 'delete', key },
    ],
    failure: [{ op: 'get', key }],
  });
  const first = r.results[0];
  return { succeeded: r.succeeded, revision: r.revision, current: first?.op === 'get' ? first.kv : undefined };
}

/** Deleting a prefix as a transaction: the shared implementation of `KvStore.deletePrefix`. */
export async function deletePrefixViaTxn(kv: Pick<KvStore, 'txn'>, prefix: string): Promise<{ deleted: number; revision: number }> {
  const r = await kv.txn({ compare: [], success: [{ op: 'deletePrefix', prefix }] });
  const first = r.results[0];
  return { deleted: first?.op === 'deletePrefix' ? first.deleted : 0, revision: r.revision };
}

/** Turns a single-write condition into transaction guards. */
export function conditionCompares(key: string, condition: WriteCondition | undefined): Compare[] {
  if (condition === undefined) return [];
  if ('absent' in condition) return [{ key, target: 'version', op: '==', value: 0 }];
  if ('present' in condition) return [{ key, target: 'version', op: '>', value: 0 }];
  if ('modRevision' in condition) return [{ key, target: 'modRevision', op: '==', value: condition.modRevision }];
  return [{ key, target: 'value', op: '==', value: condition.value }];
}
