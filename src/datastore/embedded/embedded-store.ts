import { join } from 'node:path';
import Database from 'better-sqlite3';
import { realClock, realFs, type Clock, type Fs, type Timer } from '../../lib/index.js';
import { CompactedError, DatastoreUnavailableError, InvalidTxnError, LeaseNotFoundError } from '../errors.js';
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
  type WatchOptions,
  type WriteOptions,
  type WriteResult,
} from '../kv-store.js';
import { SCHEMA_SQL, SCHEMA_VERSION, type EventRow, type KvRow } from './schema.js';
import { WatchHub } from './watch-hub.js';

export interface EmbeddedStoreOptions {
  /** The store's directory (created if missing); the database is `<dir>/brindle.db`. */
  readonly dir: string;
  readonly clock?: Clock;
  readonly fs?: Fs;
  /** `full` (default) fsyncs every commit; `normal` survives process crashes but not power loss. */
  readonly durability?: 'full' | 'normal';
  /** Fallback poll period for watches, in ms (default 100). */
  readonly pollMs?: number;
  /** How often expired leases are swept, in ms (default 250). */
  readonly leaseSweepMs?: number;
  /** Revisions of history kept for watches before automatic compaction (default 50,000). */
  readonly historyRevisions?: number;
}

const AUTO_COMPACT_EVERY = 1_000;

function toKv(row: KvRow | undefined): KeyValue | undefined {
  if (row === undefined) return undefined;
  return {
    key: row.key,
    value: row.value,
    createRevision: row.create_rev,
    modRevision: row.mod_rev,
    version: row.version,
    lease: row.lease === 0 ? undefined : String(row.lease),
  };
}

function compareHolds(c: Compare, row: KvRow | undefined): boolean {
  if (c.target === 'value') {
    if (row === undefined) return false;
    return c.op === '==' ? row.value === c.value : row.value !== c.value;
  }
  const actual = row === undefined ? 0 : c.target === 'version' ? row.version : c.target === 'createRevision' ? row.create_rev : row.mod_rev;
  switch (c.op) {
    case '==':
      return actual === c.value;
    case '!=':
      return actual !== c.value;
    case '<':
      return actual < c.value;
    case '>':
      return actual > c.value;
  }
}

function checkDistinctWrites(ops: readonly TxnOp[]): void {
  const seen = new Set<string>();
  for (const op of ops) {
    if (op.op !== 'put' && op.op !== 'delete') continue;
    if (seen.has(op.key)) throw new InvalidTxnError(`key ${JSON.stringify(op.key)} is written twice`);
    seen.add(op.key);
  }
}

/**
 * The embedded backend: SQLite in WAL mode on local disk. Every write is one IMMEDIATE
 * transaction, so writers in several processes serialise on SQLite's lock and each commit is
 * atomic and durable. See DESIGN.md for why SQLite and how watches cross processes.
 */
export class EmbeddedStore implements KvStore {
  readonly backend = 'embedded' as const;
  readonly #db: Database.Database;
  readonly #clock: Clock;
  readonly #hub: WatchHub;
  readonly #history: number;
  readonly #sweepTimer: { timer: Timer | undefined };
  readonly #stmt;
  #closed = false;

  constructor(options: EmbeddedStoreOptions) {
    const fs = options.fs ?? realFs();
    this.#clock = options.clock ?? realClock();
    this.#history = options.historyRevisions ?? 50_000;
    fs.ensureDirSync(options.dir);
    try {
      this.#db = new Database(join(options.dir, 'brindle.db'), { timeout: 10_000 });
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma(`synchronous = ${options.durability === 'normal' ? 'NORMAL' : 'FULL'}`);
      this.#db.transaction(() => this.#db.exec(SCHEMA_SQL)).immediate();
    } catch (err) {
      throw new DatastoreUnavailableError(`cannot open embedded store in ${options.dir}`, err);
    }
    const db = this.#db;
    this.#stmt = {
      meta: db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE name = ?'),
      setMeta: db.prepare<[number, string]>('UPDATE meta SET value = ? WHERE name = ?'),
      get: db.prepare<[string], KvRow>('SELECT * FROM kv WHERE key = ?'),
      rangeTo: db.prepare<[string, string], KvRow>('SELECT * FROM kv WHERE key >= ? AND key < ? ORDER BY key'),
      rangeAll: db.prepare<[string], KvRow>('SELECT * FROM kv WHERE key >= ? ORDER BY key'),
      upsert: db.prepare<[string, string, number, number, number, number]>(
        'INSERT INTO kv (key, value, create_rev, mod_rev, version, lease) VALUES (?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (key) DO UPDATE SET value = excluded.value, mod_rev = excluded.mod_rev, version = excluded.version, lease = excluded.lease',
      ),
      del: db.prepare<[string]>('DELETE FROM kv WHERE key = ?'),
      event: db.prepare<[number, number, string, number, string | null, number | null, number | null, number | null]>(
        'INSERT INTO events (rev, seq, key, deleted, value, create_rev, version, lease) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      eventsTo: db.prepare<[number, number, string, string], EventRow>(
        'SELECT * FROM events WHERE rev >= ? AND rev <= ? AND key >= ? AND key < ? ORDER BY rev, seq',
      ),
      eventsAll: db.prepare<[number, number, string], EventRow>('SELECT * FROM events WHERE rev >= ? AND rev <= ? AND key >= ? ORDER BY rev, seq'),
      trim: db.prepare<[number]>('DELETE FROM events WHERE rev < ?'),
      leaseGet: db.prepare<[number], { id: number; ttl: number; expires_at: number }>('SELECT * FROM leases WHERE id = ?'),
      leaseInsert: db.prepare<[number, number, number]>('INSERT INTO leases (id, ttl, expires_at) VALUES (?, ?, ?)'),
      leaseRenew: db.prepare<[number, number]>('UPDATE leases SET expires_at = ? WHERE id = ?'),
      leaseDelete: db.prepare<[number]>('DELETE FROM leases WHERE id = ?'),
      leaseDue: db.prepare<[number], { id: number }>('SELECT id FROM leases WHERE expires_at <= ? LIMIT 64'),
      leaseKeys: db.prepare<[number], KvRow>('SELECT * FROM kv WHERE lease = ? ORDER BY key'),
    };
    const schema = this.#meta('schema');
    if (schema !== SCHEMA_VERSION) {
      db.close();
      throw new DatastoreUnavailableError(`embedded store in ${options.dir} has schema ${schema}, this Brindle reads ${SCHEMA_VERSION}`);
    }
    this.#hub = new WatchHub({
      source: {
        currentRevision: () => this.#meta('revision'),
        snapshot: (from, prefix = '') =>
          this.#db
            .transaction(() => {
              const revision = this.#meta('revision');
              return { revision, compactRevision: this.#meta('compact_revision'), events: this.#events(from, revision, prefix) };
            })
            .deferred(),
      },
      clock: this.#clock,
      fs,
      dir: options.dir,
      pollMs: options.pollMs ?? 100,
    });
    const sweepMs = options.leaseSweepMs ?? 250;
    this.#sweepTimer = { timer: undefined };
    const sweep = (): void => {
      if (this.#closed) return;
      try {
        this.#sweepLeases();
      } catch {
        // A busy or failing sweep is retried on the next tick.
      }
      this.#sweepTimer.timer = this.#clock.setTimer(sweep, sweepMs);
    };
    sweep();
  }

  get(key: string): Promise<KeyValue | undefined> {
    return this.#run(() => toKv(this.#stmt.get.get(key)));
  }

  list(prefix: string): Promise<ListResult> {
    return this.#run(() =>
      this.#db
        .transaction((): ListResult => {
          const revision = this.#meta('revision');
          return { items: this.#range(prefix).map((r) => toKv(r) as KeyValue), revision };
        })
        .deferred(),
    );
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

  txn(request: TxnRequest): Promise<TxnResult> {
    return this.#run(() => {
      checkDistinctWrites(request.success);
      checkDistinctWrites(request.failure ?? []);
      const result = this.#db
        .transaction((): TxnResult => {
          const current = this.#meta('revision');
          const succeeded = request.compare.every((c) => compareHolds(c, this.#stmt.get.get(c.key)));
          const writer = { current, next: undefined as number | undefined, seq: 0 };
          const revision = (): number => (writer.next ??= current + 1);
          const results = (succeeded ? request.success : (request.failure ?? [])).map((op) => this.#apply(op, revision, writer));
          if (writer.next !== undefined) {
            this.#stmt.setMeta.run(writer.next, 'revision');
            this.#maybeAutoCompact(writer.next);
          }
          return { succeeded, revision: writer.next ?? current, results };
        })
        .immediate();
      this.#notifyWatches();
      return result;
    });
  }

  watch(prefix: string, options: WatchOptions): Watch {
    return this.#hub.add(prefix, options.fromRevision, options.signal);
  }

  grantLease(ttlSeconds: number): Promise<LeaseGrant> {
    const ttl = Math.max(1, Math.ceil(ttlSeconds));
    return this.#run(() =>
      this.#db
        .transaction((): LeaseGrant => {
          const id = this.#meta('lease_seq') + 1;
          this.#stmt.setMeta.run(id, 'lease_seq');
          this.#stmt.leaseInsert.run(id, ttl, this.#clock.now() + ttl * 1000);
          return { id: String(id), ttlSeconds: ttl };
        })
        .immediate(),
    );
  }

  keepAliveLease(id: string): Promise<number> {
    return this.#run(() =>
      this.#db
        .transaction((): number => {
          const lease = this.#stmt.leaseGet.get(Number(id));
          if (lease === undefined || lease.expires_at <= this.#clock.now()) throw new LeaseNotFoundError(id);
          this.#stmt.leaseRenew.run(this.#clock.now() + lease.ttl * 1000, lease.id);
          return lease.ttl;
        })
        .immediate(),
    );
  }

  revokeLease(id: string): Promise<void> {
    return this.#run(() => {
      this.#db.transaction(() => this.#expireLease(Number(id))).immediate();
      this.#notifyWatches();
    });
  }

  compact(revision: number): Promise<void> {
    return this.#run(() =>
      this.#db
        .transaction(() => {
          const compacted = this.#meta('compact_revision');
          if (revision <= compacted) throw new CompactedError(revision, compacted);
          if (revision > this.#meta('revision')) throw new InvalidTxnError(`cannot compact at future revision ${revision}`);
          this.#stmt.trim.run(revision);
          this.#stmt.setMeta.run(revision, 'compact_revision');
        })
        .immediate(),
    );
  }

  revision(): Promise<number> {
    return this.#run(() => this.#meta('revision'));
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#sweepTimer.timer?.cancel();
      this.#hub.close();
      this.#db.close();
    }
    return Promise.resolve();
  }

  #apply(op: TxnOp, revision: () => number, w: { seq: number }): TxnOpResult {
    switch (op.op) {
      case 'get':
        return { op: 'get', kv: toKv(this.#stmt.get.get(op.key)) };
      case 'put': {
        let lease = 0;
        if (op.lease !== undefined) {
          lease = Number(op.lease);
          const row = this.#stmt.leaseGet.get(lease);
          if (row === undefined || row.expires_at <= this.#clock.now()) throw new LeaseNotFoundError(op.lease);
        }
        const prev = this.#stmt.get.get(op.key);
        const rev = revision();
        const createRev = prev?.create_rev ?? rev;
        const version = (prev?.version ?? 0) + 1;
        this.#stmt.upsert.run(op.key, op.value, createRev, rev, version, lease);
        this.#stmt.event.run(rev, w.seq++, op.key, 0, op.value, createRev, version, lease);
        return { op: 'put', previous: op.returnPrevious === true ? toKv(prev) : undefined };
      }
      case 'delete': {
        if (this.#stmt.get.get(op.key) === undefined) return { op: 'delete', deleted: 0 };
        this.#deleteRow(op.key, revision(), w);
        return { op: 'delete', deleted: 1 };
      }
      case 'deletePrefix': {
        const rows = this.#range(op.prefix);
        for (const row of rows) this.#deleteRow(row.key, revision(), w);
        return { op: 'deletePrefix', deleted: rows.length };
      }
    }
  }

  #deleteRow(key: string, rev: number, w: { seq: number }): void {
    this.#stmt.del.run(key);
    this.#stmt.event.run(rev, w.seq++, key, 1, null, null, null, null);
  }

  #range(prefix: string): KvRow[] {
    const end = prefixEnd(prefix);
    return end === '' ? this.#stmt.rangeAll.all(prefix) : this.#stmt.rangeTo.all(prefix, end);
  }

  #events(from: number, to: number, prefix: string): EventRow[] {
    const end = prefixEnd(prefix);
    return end === '' ? this.#stmt.eventsAll.all(from, to, prefix) : this.#stmt.eventsTo.all(from, to, prefix, end);
  }

  #meta(name: string): number {
    return this.#stmt.meta.get(name)?.value ?? 0;
  }

  /** Deletes a lease and its keys (one revision for all of them). Must run inside a write transaction. */
  #expireLease(id: number): void {
    if (this.#stmt.leaseGet.get(id) === undefined) return;
    const rows = this.#stmt.leaseKeys.all(id);
    if (rows.length > 0) {
      const rev = this.#meta('revision') + 1;
      const w = { seq: 0 };
      for (const row of rows) this.#deleteRow(row.key, rev, w);
      this.#stmt.setMeta.run(rev, 'revision');
    }
    this.#stmt.leaseDelete.run(id);
  }

  #sweepLeases(): void {
    const now = this.#clock.now();
    if (this.#stmt.leaseDue.all(now).length === 0) return;
    this.#db
      .transaction(() => {
        for (const { id } of this.#stmt.leaseDue.all(now)) this.#expireLease(id);
      })
      .immediate();
    this.#notifyWatches();
  }

  /** Hands our own commit to local watches now; a failed read here must not fail the write. */
  #notifyWatches(): void {
    try {
      this.#hub.poll();
    } catch {
      this.#hub.wake();
    }
  }

  #maybeAutoCompact(rev: number): void {
    if (rev % AUTO_COMPACT_EVERY !== 0) return;
    const target = rev - this.#history;
    if (target > this.#meta('compact_revision')) {
      this.#stmt.trim.run(target);
      this.#stmt.setMeta.run(target, 'compact_revision');
    }
  }

  /** Runs a synchronous SQLite operation, mapping lock timeouts and I/O failures to datastore errors. */
  #run<T>(fn: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new DatastoreUnavailableError('the embedded store is closed'));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      if (err instanceof Database.SqliteError) {
        return Promise.reject(new DatastoreUnavailableError(`embedded store: ${err.message}`, err));
      }
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }
}
