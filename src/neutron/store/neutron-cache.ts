import { CompactedError, type KeyValue, type KvStore, type TxnRequest, type TxnResult } from '../../datastore/index.js';
import { backoffDelay, describeError, type Clock, type Logger } from '../../lib/index.js';
import { NEUTRON_ROOT, type NeutronCollection } from './neutron-keys.js';

const COLLECTIONS: ReadonlySet<string> = new Set<NeutronCollection>([
  'networks',
  'subnets',
  'ports',
  'security-groups',
  'security-group-rules',
  'routers',
  'floatingips',
]);

/** A key under one of the collections: its collection and id, else undefined. */
function collectionOf(key: string): { collection: NeutronCollection; id: string } | undefined {
  if (!key.startsWith(NEUTRON_ROOT)) return undefined;
  const rest = key.slice(NEUTRON_ROOT.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return undefined;
  const collection = rest.slice(0, slash);
  const id = rest.slice(slash + 1);
  if (!COLLECTIONS.has(collection) || id === '' || id.includes('/')) return undefined;
  return { collection: collection as NeutronCollection, id };
}

export interface NeutronCacheOptions {
  readonly kv: KvStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * A watch-fed copy of Neutron's objects (the collections under NEUTRON_ROOT), as raw key-values
 * with their revisions: listed once, then followed by a watch, and written through by this
 * server's own transactions (`applyTxn`) so its reads see its writes at once. Each key keeps
 * the revision it was last changed at (deletes as tombstones until the watch has passed them),
 * so a late watch event never undoes a newer write. While the watch is not in place (starting,
 * broken, resuming) the cache is not `ready` and readers go to the datastore.
 */
export class NeutronCache {
  readonly #o: NeutronCacheOptions;
  readonly #entries = new Map<NeutronCollection, Map<string, KeyValue>>();
  /** Keys deleted by a write-through, with the revision, until the watch reaches it. */
  readonly #tombstones = new Map<string, number>();
  #watched = 0;
  #ready = false;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #waiters: { revision: number; resolve: (reached: boolean) => void }[] = [];

  constructor(options: NeutronCacheOptions) {
    this.#o = options;
    for (const c of COLLECTIONS) this.#entries.set(c as NeutronCollection, new Map());
  }

  /** Whether reads may be answered from the cache (the watch is in place). */
  get ready(): boolean {
    return this.#ready;
  }

  /** The revision the watch has delivered up to. */
  get revision(): number {
    return this.#watched;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  /** The collection's entry for `id` (undefined: absent, as far as the cache knows). */
  get(c: NeutronCollection, id: string): KeyValue | undefined {
    return this.#entries.get(c)?.get(id);
  }

  /** Every entry of a collection. */
  values(c: NeutronCollection): KeyValue[] {
    return [...(this.#entries.get(c)?.values() ?? [])];
  }

  /**
   * Resolves `true` once the watch has delivered `revision`, `false` if it has not within
   * `timeoutMs` (or the cache is not ready: readers then go to the datastore anyway).
   */
  reach(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.#watched >= revision) return Promise.resolve(true);
    if (!this.#ready) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = { revision, resolve };
      this.#waiters.push(waiter);
      const timer = this.#o.clock.setTimer(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      waiter.resolve = (reached) => {
        timer.cancel();
        resolve(reached);
      };
    });
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const now = this.#waiters.filter((w) => w.revision <= this.#watched);
    if (now.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.revision > this.#watched);
    for (const w of now) w.resolve(true);
  }

  /** A successful transaction of this server: its writes under the collections, applied now. */
  applyTxn(request: TxnRequest, result: TxnResult): void {
    if (!result.succeeded) return;
    for (const op of request.success) {
      if (op.op === 'put') {
        const where = collectionOf(op.key);
        if (where === undefined) continue;
        const previous = this.get(where.collection, where.id);
        this.#put(where.collection, where.id, {
          key: op.key,
          value: op.value,
          modRevision: result.revision,
          createRevision: previous?.createRevision ?? result.revision,
          version: (previous?.version ?? 0) + 1,
          lease: undefined,
        });
      } else if (op.op === 'delete') {
        const where = collectionOf(op.key);
        if (where !== undefined) this.#delete(where.collection, where.id, op.key, result.revision);
      } else if (op.op === 'deletePrefix') {
        for (const [c, entries] of this.#entries) {
          for (const [id, kv] of entries) if (kv.key.startsWith(op.prefix)) this.#delete(c, id, kv.key, result.revision);
        }
      }
    }
  }

  #put(c: NeutronCollection, id: string, kv: KeyValue): void {
    const entries = this.#entries.get(c);
    const current = entries?.get(id);
    const deletedAt = this.#tombstones.get(kv.key) ?? 0;
    if ((current !== undefined && current.modRevision >= kv.modRevision) || deletedAt >= kv.modRevision) return;
    this.#tombstones.delete(kv.key);
    entries?.set(id, kv);
  }

  #delete(c: NeutronCollection, id: string, key: string, revision: number): void {
    const entries = this.#entries.get(c);
    const current = entries?.get(id);
    if (current !== undefined && current.modRevision > revision) return;
    entries?.delete(id);
    if (revision > this.#watched) this.#tombstones.set(key, Math.max(revision, this.#tombstones.get(key) ?? 0));
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let attempt = 0;
    let resume: number | undefined;
    while (!signal.aborted) {
      try {
        if (resume === undefined) await this.#relist();
        resume = undefined;
        const watch = this.#o.kv.watch(NEUTRON_ROOT, { fromRevision: this.#watched + 1, signal });
        void watch.ready.then((inPlace) => {
          if (inPlace && !signal.aborted) {
            this.#ready = true;
            attempt = 0;
          }
        });
        try {
          for await (const batch of watch) {
            for (const e of batch.events) {
              const key = e.type === 'put' ? e.kv.key : e.key;
              const where = collectionOf(key);
              if (where === undefined) continue;
              if (e.type === 'put') this.#put(where.collection, where.id, e.kv);
              else this.#delete(where.collection, where.id, key, batch.revision);
            }
            this.#watched = batch.revision;
            for (const [key, at] of this.#tombstones) if (at <= batch.revision) this.#tombstones.delete(key);
            this.#wake();
          }
        } finally {
          watch.close();
        }
      } catch (err) {
        if (signal.aborted) break;
        this.#ready = false;
        for (const w of this.#waiters.splice(0)) w.resolve(false);
        resume = err instanceof CompactedError || this.#watched === 0 ? undefined : this.#watched;
        const delay = backoffDelay(attempt++);
        this.#o.logger.warn(
          { err: describeError(err), retryInMs: delay },
          resume === undefined ? 'neutron cache re-listing' : 'neutron cache resuming its watch',
        );
        await this.#o.clock.sleep(delay, signal).catch(() => undefined);
      }
    }
    this.#ready = false;
  }

  /** Lists every collection at one revision and replaces the cache's contents with it. */
  async #relist(): Promise<void> {
    this.#ready = false;
    const { items, revision } = await this.#o.kv.list(NEUTRON_ROOT);
    for (const entries of this.#entries.values()) entries.clear();
    this.#tombstones.clear();
    for (const kv of items) {
      const where = collectionOf(kv.key);
      if (where !== undefined) this.#entries.get(where.collection)?.set(where.id, kv);
    }
    this.#watched = revision;
  }
}
