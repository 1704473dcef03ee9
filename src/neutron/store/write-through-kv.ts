import {
  deletePrefixViaTxn,
  deleteViaTxn,
  putViaTxn,
  type KeyValue,
  type KvStore,
  type LeaseGrant,
  type ListResult,
  type PutOptions,
  type TxnRequest,
  type TxnResult,
  type Watch,
  type WatchOptions,
  type WriteOptions,
  type WriteResult,
} from '../../datastore/index.js';
import type { NeutronCache } from './neutron-cache.js';
import { NEUTRON_CHANGE_KEY, NEUTRON_ROOT } from './neutron-keys.js';

/**
 * The datastore as the API server's services see it: every successful transaction (puts and
 * deletes included, which go through `txn`) is also applied to the cache, so this server reads
 * its own writes at once. Everything else passes straight through.
 */
export class WriteThroughKv implements KvStore {
  readonly #kv: KvStore;
  readonly #cache: NeutronCache;

  constructor(kv: KvStore, cache: NeutronCache) {
    this.#kv = kv;
    this.#cache = cache;
  }

  get backend(): KvStore['backend'] {
    return this.#kv.backend;
  }

  /** Applies a successful transaction to the cache; one that changes Neutron's objects also marks NEUTRON_CHANGE_KEY. */
  async txn(request: TxnRequest): Promise<TxnResult> {
    const changes = request.success.some((op) => (op.op === 'deletePrefix' ? op.prefix : op.key).startsWith(NEUTRON_ROOT) && op.op !== 'get');
    const marked = changes && !request.success.some((op) => op.op === 'put' && op.key === NEUTRON_CHANGE_KEY);
    const sent = marked ? { ...request, success: [...request.success, { op: 'put' as const, key: NEUTRON_CHANGE_KEY, value: '' }] } : request;
    const result = await this.#kv.txn(sent);
    this.#cache.applyTxn(request, result);
    // Callers index results by their own ops: the mark's result (last) is not theirs.
    return marked && result.succeeded ? { ...result, results: result.results.slice(0, request.success.length) } : result;
  }

  put(key: string, value: string, options: PutOptions = {}): Promise<WriteResult> {
    return putViaTxn(this, key, value, options);
  }

  delete(key: string, options: WriteOptions = {}): Promise<WriteResult> {
    return deleteViaTxn(this, key, options);
  }

  deletePrefix(prefix: string): Promise<{ deleted: number; revision: number }> {
    return deletePrefixViaTxn(this, prefix);
  }

  get(key: string): Promise<KeyValue | undefined> {
    return this.#kv.get(key);
  }

  list(prefix: string): Promise<ListResult> {
    return this.#kv.list(prefix);
  }

  watch(prefix: string, options: WatchOptions): Watch {
    return this.#kv.watch(prefix, options);
  }

  grantLease(ttlSeconds: number): Promise<LeaseGrant> {
    return this.#kv.grantLease(ttlSeconds);
  }

  keepAliveLease(id: string): Promise<number> {
    return this.#kv.keepAliveLease(id);
  }

  revokeLease(id: string): Promise<void> {
    return this.#kv.revokeLease(id);
  }

  compact(revision: number): Promise<void> {
    return this.#kv.compact(revision);
  }

  revision(): Promise<number> {
    return this.#kv.revision();
  }

  /** The underlying store is the caller's to close. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
