import { noop } from 'cockatiel';
import { Etcd3, type IOptions } from 'etcd3';
import type * as RPC from 'etcd3/lib/rpc.js';
import { CompactedError, DatastoreUnavailableError, LeaseNotFoundError } from '../errors.js';
import {
  deletePrefixViaTxn,
  deleteViaTxn,
  prefixEnd,
  putViaTxn,
  type Compare,
  type KeyValue,
  type KvStore,
  type LeaseGrant,
  type ListResult,
  type PutOptions,
  type TxnOp,
  type TxnOpResult,
  type TxnRequest,
  type TxnResult,
  type Watch,
  type WatchBatch,
  type WatchEvent,
  type WatchOptions,
  type WriteOptions,
  type WriteResult,
} from '../kv-store.js';
import { WatchQueue } from '../watch-queue.js';
import { CallTimedOutError, classifyEtcdFailure, mapEtcdError } from './etcd-errors.js';
import { EndpointPool, type PoolMember } from './endpoint-pool.js';

export interface EtcdStoreOptions {
  readonly endpoints: readonly string[];
  /** PEM contents (not paths): the CA to trust, and a client certificate and key for mTLS. */
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  readonly username?: string;
  readonly password?: string;
  readonly dialTimeoutMs?: number;
  /**
   * Deadline of each call (default 5 s). A member that does not answer in time is passed over
   * and its connection replaced: a half-open connection would otherwise hold calls forever.
   */
  readonly callTimeoutMs?: number;
  /**
   * A watch that has heard nothing from its member for this long asks for a progress report;
   * one silent for twice as long fails, and its consumer resumes it on another member
   * (default 10 s).
   */
  readonly watchKeepaliveMs?: number;
  /** Keys per page when listing (etcd responses are size-limited). */
  readonly pageSize?: number;
  /** Monotonic milliseconds (for the endpoint pool and watch keepalives). */
  readonly now?: () => number;
}

/**
 * Which calls may go to the next member after a transport failure: `idempotent` ones (reads,
 * keepalives) always; `once` ones (writes) only when the failure proves the request never left
 * (a resent transaction whose reply was lost could report its own write as a failed compare).
 */
type Retry = 'idempotent' | 'once';

const OPS: Record<Compare['op'], keyof typeof RPC.CompareResult> = { '==': 'Equal', '!=': 'NotEqual', '<': 'Less', '>': 'Greater' };
const ALL_KEYS = Buffer.from([0]);

function keyRange(prefix: string): { key: Buffer; range_end: Buffer } {
  if (prefix === '') return { key: ALL_KEYS, range_end: ALL_KEYS };
  const end = prefixEnd(prefix);
  return { key: Buffer.from(prefix), range_end: end === '' ? ALL_KEYS : Buffer.from(end) };
}

function toKv(kv: RPC.IKeyValue | null | undefined): KeyValue | undefined {
  // protobuf decodes an absent message as null.
  if (kv === undefined || kv === null) return undefined;
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
    version: Number(kv.version),
    lease: kv.lease === undefined || kv.lease === '0' ? undefined : String(kv.lease),
  };
}

function toCompare(c: Compare): RPC.ICompare {
  const key = Buffer.from(c.key);
  const result = OPS[c.op];
  switch (c.target) {
    case 'value':
      return { key, result, target: 'Value', value: Buffer.from(c.value) };
    case 'version':
      return { key, result, target: 'Version', version: String(c.value) };
    case 'createRevision':
      return { key, result, target: 'Create', create_revision: String(c.value) };
    case 'modRevision':
      return { key, result, target: 'Mod', mod_revision: String(c.value) };
  }
}

function toRequestOp(op: TxnOp): RPC.IRequestOp {
  switch (op.op) {
    case 'put':
      return { request_put: { key: Buffer.from(op.key), value: Buffer.from(op.value), lease: op.lease ?? '0', prev_kv: op.returnPrevious === true } };
    case 'delete':
      return { request_delete_range: { key: Buffer.from(op.key) } };
    case 'deletePrefix':
      return { request_delete_range: keyRange(op.prefix) };
    case 'get':
      return { request_range: { key: Buffer.from(op.key) } };
  }
}

function toOpResult(op: TxnOp, r: RPC.IResponseOp | undefined): TxnOpResult {
  switch (op.op) {
    case 'put':
      return { op: 'put', previous: toKv(r?.response_put?.prev_kv) };
    case 'delete':
    case 'deletePrefix':
      return { op: op.op, deleted: Number(r?.response_delete_range?.deleted ?? 0) };
    case 'get':
      return { op: 'get', kv: toKv(r?.response_range?.kvs[0]) };
  }
}

/**
 * Closes a stream we opened. Half-close first: etcd3 treats an error on a stream that is still
 * writable (which is what cancel() produces) as a host failure and resets every client for the
 * host, dropping unrelated calls in flight.
 */
function closeStream(stream: { end(): void; cancel(): void }): void {
  stream.end();
  stream.cancel();
}

/**
 * The etcd v3 backend, over the etcd3 package's gRPC clients (the only importer of etcd3): one
 * client per member, chosen by an `EndpointPool` (sticky while a member answers, failing over
 * when it does not).
 */
export class EtcdStore implements KvStore {
  readonly backend = 'etcd' as const;
  readonly #pool: EndpointPool<Etcd3>;
  readonly #pageSize: number;
  readonly #keepaliveMs: number;
  readonly #callTimeoutMs: number;
  readonly #now: () => number;
  readonly #watches = new Set<WatchQueue>();
  #closed = false;

  constructor(options: EtcdStoreOptions) {
    this.#callTimeoutMs = options.callTimeoutMs ?? 5_000;
    const config: Omit<IOptions, 'hosts'> = {
      dialTimeout: options.dialTimeoutMs ?? 5_000,
      // Every unary call has a deadline; streams (watches, keepalives) watch themselves.
      defaultCallOptions: (context) => (context.isStream || this.#callTimeoutMs === 0 ? {} : { deadline: Date.now() + this.#callTimeoutMs }),
      // etcd3's own fault handling is off: failover is ours (#call), because only we know
      // which calls may be sent again. No gRPC keepalive pings either: under load etcd answered
      // them with GOAWAY, failing every call in flight (measured: a 16-way port-create run lost
      // half its requests after 20 s). Watches ask for progress reports instead.
      faultHandling: { global: noop, host: () => noop },
      ...(options.tls === undefined
        ? {}
        : {
            credentials: {
              rootCertificate: options.tls.ca ?? Buffer.alloc(0),
              ...(options.tls.key === undefined ? {} : { privateKey: options.tls.key }),
              ...(options.tls.cert === undefined ? {} : { certChain: options.tls.cert }),
            },
          }),
      ...(options.username === undefined ? {} : { auth: { username: options.username, password: options.password ?? '' } }),
    };
    this.#now = options.now ?? (() => performance.now());
    this.#pool = new EndpointPool({
      endpoints: options.endpoints,
      makeClient: (endpoint) => new Etcd3({ ...config, hosts: [endpoint] }),
      closeClient: (client) => client.close(),
      now: this.#now,
    });
    this.#pageSize = options.pageSize ?? 2_000;
    this.#keepaliveMs = options.watchKeepaliveMs ?? 10_000;
  }

  /** Each member's endpoint and whether calls currently pass it over (for status output and tests). */
  get endpoints(): { endpoint: string; up: boolean }[] {
    const now = this.#now();
    return this.#pool.members.map((m) => ({ endpoint: m.endpoint, up: m.downUntil <= now }));
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const r = await this.#call((c) => c.kv.range({ key: Buffer.from(key) }), 'idempotent');
    return toKv(r.kvs[0]);
  }

  async list(prefix: string): Promise<ListResult> {
    const range = keyRange(prefix);
    const items: KeyValue[] = [];
    let revision = 0;
    let from = range.key;
    for (;;) {
      const r = await this.#call((c) => c.kv.range({ key: from, range_end: range.range_end, limit: this.#pageSize, revision: String(revision) }), 'idempotent');
      if (revision === 0) revision = Number(r.header.revision);
      for (const kv of r.kvs) items.push(toKv(kv) as KeyValue);
      const last = r.kvs[r.kvs.length - 1];
      if (!r.more || last === undefined) break;
      from = Buffer.concat([last.key, ALL_KEYS]);
    }
    return { items, revision };
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

  async txn(request: TxnRequest): Promise<TxnResult> {
    const lease = [...request.success, ...(request.failure ?? [])].find((o) => o.op === 'put' && o.lease !== undefined);
    const writes = [...request.success, ...(request.failure ?? [])].some((o) => o.op !== 'get');
    const r = await this.#call(
      (c) =>
        c.kv.txn({
          compare: request.compare.map(toCompare),
          success: request.success.map(toRequestOp),
          failure: (request.failure ?? []).map(toRequestOp),
        }),
      writes ? 'once' : 'idempotent',
      lease?.op === 'put' && lease.lease !== undefined ? { leaseId: lease.lease } : {},
    );
    const ops = r.succeeded ? request.success : (request.failure ?? []);
    return { succeeded: r.succeeded, revision: Number(r.header.revision), results: ops.map((op, i) => toOpResult(op, r.responses[i])) };
  }

  watch(prefix: string, options: WatchOptions): Watch {
    let next = options.fromRevision;
    let stream: RPC.IDuplexStream<RPC.IWatchRequest, RPC.IWatchResponse> | undefined;
    let keepalive: ReturnType<typeof setInterval> | undefined;
    const queue: WatchQueue = new WatchQueue(() => {
      this.#watches.delete(queue);
      clearInterval(keepalive);
      if (stream !== undefined) closeStream(stream);
    }, options.signal);
    this.#watches.add(queue);
    const member = this.#pool.order()[0] as PoolMember<Etcd3>;
    const client = member.client;
    /** The member failed this watch at the transport level: pass it over (and replace its connection if it went silent). */
    const memberFailed = (err: unknown): void => {
      const failure = classifyEtcdFailure(err);
      if (failure !== 'answer' && !this.#closed && member.client === client) this.#pool.failed(member, { reset: failure === 'timeout' });
    };
    const onResponse = (res: RPC.IWatchResponse): void => {
      if (res.created) queue.established();
      const compactRevision = Number(res.compact_revision);
      if (compactRevision > 0) {
        queue.fail(new CompactedError(next, compactRevision));
        return;
      }
      if (res.canceled) {
        queue.fail(new DatastoreUnavailableError(`watch cancelled by etcd: ${res.cancel_reason || 'no reason given'}`));
        return;
      }
      const batches: { revision: number; events: WatchEvent[] }[] = [];
      for (const e of res.events) {
        const revision = Number(e.kv.mod_revision);
        let batch = batches[batches.length - 1];
        if (batch?.revision !== revision) batches.push((batch = { revision, events: [] }));
        batch.events.push(
          e.type === 'Delete' ? { type: 'delete', key: e.kv.key.toString(), modRevision: revision } : { type: 'put', kv: toKv(e.kv) as KeyValue },
        );
      }
      for (const b of batches as WatchBatch[]) {
        next = b.revision + 1;
        queue.push(b);
      }
    };
    client.watchClient
      .watch()
      .then((s) => {
        if (queue.closed) {
          s.on('error', () => {});
          closeStream(s);
          return;
        }
        stream = s;
        let heard = this.#now();
        s.on('data', (res: RPC.IWatchResponse) => {
          heard = this.#now();
          onResponse(res);
        });
        s.on('error', (err: unknown) => {
          if (!queue.closed) memberFailed(err);
          queue.fail(mapEtcdError(err));
        });
        s.on('end', () => queue.fail(new DatastoreUnavailableError('watch stream ended')));
        s.write({ create_request: { ...keyRange(prefix), start_revision: String(Math.max(0, options.fromRevision)) } });
        // Keepalive: a quiet watch asks for a progress report (any reply counts); one that stays
        // silent is on a dead or half-open connection and fails, to be resumed elsewhere.
        const every = this.#keepaliveMs;
        keepalive = setInterval(
          () => {
            const quiet = this.#now() - heard;
            if (quiet >= 2 * every) {
              const err = new CallTimedOutError(`etcd member ${member.endpoint} silent for ${Math.round(quiet)} ms on a watch`);
              memberFailed(err);
              queue.fail(mapEtcdError(err));
            } else if (quiet >= every) {
              s.write({ progress_request: {} });
            }
          },
          Math.max(10, every / 2),
        );
        keepalive.unref();
      })
      .catch((err: unknown) => {
        memberFailed(err);
        queue.fail(mapEtcdError(err));
      });
    return queue;
  }

  async grantLease(ttlSeconds: number): Promise<LeaseGrant> {
    // Idempotent enough: a lease granted twice because a reply was lost just expires unused.
    const r = await this.#call((c) => c.leaseClient.leaseGrant({ TTL: Math.max(1, Math.ceil(ttlSeconds)), ID: 0 }), 'idempotent');
    return { id: String(r.ID), ttlSeconds: Number(r.TTL) };
  }

  keepAliveLease(id: string): Promise<number> {
    return this.#call((c) => this.#keepAliveOnce(c, id), 'idempotent', { leaseId: id });
  }

  async #keepAliveOnce(client: Etcd3, id: string): Promise<number> {
    const stream = await client.leaseClient.leaseKeepAlive();
    let settled = false;
    try {
      const ttl = await new Promise<number>((resolve, reject) => {
        const settle = (fn: () => void): void => {
          if (!settled) {
            settled = true;
            fn();
          }
        };
        stream.on('data', (res: RPC.ILeaseKeepAliveResponse) => settle(() => resolve(Number(res.TTL))));
        stream.on('error', (err: unknown) => settle(() => reject(err instanceof Error ? err : new Error(String(err)))));
        stream.on('end', () => settle(() => reject(new DatastoreUnavailableError('lease keep-alive stream ended'))));
        const timer = setTimeout(() => settle(() => reject(new CallTimedOutError('lease keep-alive timed out'))), this.#callTimeoutMs);
        stream.on('data', () => clearTimeout(timer));
        stream.on('error', () => clearTimeout(timer));
        stream.write({ ID: id });
      });
      if (ttl <= 0) throw new LeaseNotFoundError(id);
      return ttl;
    } finally {
      settled = true;
      closeStream(stream);
    }
  }

  async revokeLease(id: string): Promise<void> {
    try {
      await this.#call((c) => c.leaseClient.leaseRevoke({ ID: id }), 'idempotent', { leaseId: id });
    } catch (err) {
      if (!(err instanceof LeaseNotFoundError)) throw err;
    }
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.#call((c) => c.kv.compact({ revision: String(revision), physical: true }), 'idempotent', { revision });
    } catch (err) {
      if (err instanceof CompactedError) {
        // etcd does not say how far it has compacted; report the revision we were refused.
        throw new CompactedError(revision, revision);
      }
      throw err;
    }
  }

  async revision(): Promise<number> {
    const r = await this.#call((c) => c.kv.range({ key: ALL_KEYS, count_only: true }), 'idempotent');
    return Number(r.header.revision);
  }

  close(): Promise<void> {
    this.#closed = true;
    for (const w of [...this.#watches]) w.close();
    this.#pool.close();
    return Promise.resolve();
  }

  /**
   * Runs one call on the best member, moving on to the next after a transport failure when
   * `retry` allows (each member at most once). An answer from etcd, even an error, is final.
   */
  async #call<T>(fn: (client: Etcd3) => Promise<T>, retry: Retry, context: { leaseId?: string; revision?: number } = {}): Promise<T> {
    // Built only when needed: an Error captures a stack, which costs more than the call's own work.
    let last: unknown;
    for (const member of this.#pool.order()) {
      const client = member.client;
      try {
        const result = await fn(client);
        this.#pool.succeeded(member);
        return result;
      } catch (err) {
        const failure = classifyEtcdFailure(err);
        if (failure === 'answer') throw mapEtcdError(err, context);
        last = err;
        // Another call may have failed this member (and replaced its client) meanwhile.
        if (!this.#closed && member.client === client) this.#pool.failed(member, { reset: failure === 'timeout' });
        if (this.#closed || (retry === 'once' && failure !== 'unsent')) break;
      }
    }
    throw mapEtcdError(last ?? new DatastoreUnavailableError('no etcd member to call'), context);
  }
}
