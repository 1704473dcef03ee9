import { CompactedError, type KeyValue, type KvStore, type TxnRequest, type TxnResult } from '../../datastore/index.js';
import { backoffDelay, describeError, type Clock, type Logger } from '../../lib/index.js';
import { AttributeIndex } from './attribute-index.js';
import { defaultSgKey, IPAM_ROOT, NEUTRON_ROOT, type NeutronCollection } from './neutron-keys.js';

/** What the cache keeps: Neutron's collections, each project's default security group id, and each subnet's allocated addresses. */
export type CachedGroup = NeutronCollection | 'default-security-groups' | `ips/${string}`;

const COLLECTIONS: ReadonlySet<string> = new Set<NeutronCollection>([
  'networks',
  'subnets',
  'ports',
  'security-groups',
  'security-group-rules',
  'routers',
  'floatingips',
]);

/** Projects' default security group keys (`defaultSgKey`): cached beside the collections, by project. */
const DEFAULT_SG_PREFIX = defaultSgKey('');
/** Address allocation keys (`ipKey`): cached by subnet, one group per subnet (`ips/<subnet>`). */
const IPAM_PREFIX = IPAM_ROOT;

/** A key the cache keeps: its group and id within it, else undefined. */
function collectionOf(key: string): { collection: CachedGroup; id: string } | undefined {
  if (!key.startsWith(NEUTRON_ROOT)) return undefined;
  if (key.startsWith(DEFAULT_SG_PREFIX)) {
    const project = key.slice(DEFAULT_SG_PREFIX.length);
    return project === '' || project.includes('/') ? undefined : { collection: 'default-security-groups', id: project };
  }
  if (key.startsWith(IPAM_PREFIX)) {
    const rest = key.slice(IPAM_PREFIX.length);
    const slash = rest.indexOf('/');
    const ip = rest.slice(slash + 1);
    return slash <= 0 || ip === '' || ip.includes('/') ? undefined : { collection: `ips/${rest.slice(0, slash)}`, id: ip };
  }
  const rest = key.slice(NEUTRON_ROOT.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return undefined;
  const collection = rest.slice(0, slash);
  const id = rest.slice(slash + 1);
  if (!COLLECTIONS.has(collection) || id === '' || id.includes('/')) return undefined;
  return { collection: collection as NeutronCollection, id };
}

const EMPTY: ReadonlyMap<string, KeyValue> = new Map();

/** A stored record for indexing: parsed JSON, or undefined if it is not (such a record is in no index). */
function parseRecord(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

export interface NeutronCacheOptions {
  readonly kv: KvStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * A watch-fed copy of Neutron's objects (the collections under NEUTRON_ROOT), of each project's
 * default security group id and of each subnet's allocated addresses (the index a port create
 * picks a free address from), as raw key-values with their revisions: listed once, then followed by a watch, and written through by this
 * server's own transactions (`applyTxn`) so its reads see its writes at once. Each key keeps
 * the revision it was last changed at (deletes as tombstones until the watch has passed them),
 * so a late watch event never undoes a newer write. While the watch is not in place (starting,
 * broken, resuming) the cache is not `ready` and readers go to the datastore.
 */
export class NeutronCache {
  readonly #o: NeutronCacheOptions;
  readonly #entries = new Map<CachedGroup, Map<string, KeyValue>>();
  /** Each collection's entries in key order, kept until the collection changes (a list sorts once per change, not per request). */
  readonly #sorted = new Map<CachedGroup, readonly KeyValue[]>();
  /** Indexes by attribute, per collection: built on first use, then kept up to date by every change. */
  readonly #indexes = new Map<NeutronCollection, Map<string, AttributeIndex>>();
  /** The fixed groups (collections, default groups): never dropped, unlike a subnet's emptied `ips/` group. */
  readonly #fixed: ReadonlySet<CachedGroup>;
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
    this.#entries.set('default-security-groups', new Map());
    this.#fixed = new Set(this.#entries.keys());
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
  get(c: CachedGroup, id: string): KeyValue | undefined {
    return this.#entries.get(c)?.get(id);
  }

  /** Every entry of a collection. */
  values(c: NeutronCollection): KeyValue[] {
    return [...(this.#entries.get(c)?.values() ?? [])];
  }

  /** Every entry of a collection in key order (as the datastore lists); do not modify. */
  sortedValues(c: NeutronCollection): readonly KeyValue[] {
    let sorted = this.#sorted.get(c);
    if (sorted === undefined) {
      sorted = this.values(c).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      this.#sorted.set(c, sorted);
    }
    return sorted;
  }

  /**
   * The ids of a collection's records whose `attribute` is `value` (for `fixed_ips`: that one of
   * their addresses is): from an index built on the first such lookup and kept up to date after.
   */
  idsWhere(c: NeutronCollection, attribute: string, value: string): ReadonlySet<string> {
    let indexes = this.#indexes.get(c);
    if (indexes === undefined) this.#indexes.set(c, (indexes = new Map<string, AttributeIndex>()));
    let idx = indexes.get(attribute);
    if (idx === undefined) {
      idx = new AttributeIndex(attribute);
      for (const [id, kv] of this.#entries.get(c) ?? []) idx.set(id, parseRecord(kv.value));
      indexes.set(attribute, idx);
    }
    return idx.ids(value);
  }

  /** A subnet's allocated addresses as the cache knows them: address → port id (a live view: copy before awaiting). */
  allocations(subnetId: string): ReadonlyMap<string, KeyValue> {
    return this.#entries.get(`ips/${subnetId}`) ?? EMPTY;
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

  #put(c: CachedGroup, id: string, kv: KeyValue): void {
    let entries = this.#entries.get(c);
    const current = entries?.get(id);
    const deletedAt = this.#tombstones.get(kv.key) ?? 0;
    if ((current !== undefined && current.modRevision >= kv.modRevision) || deletedAt >= kv.modRevision) return;
    this.#tombstones.delete(kv.key);
    if (entries === undefined) this.#entries.set(c, (entries = new Map<string, KeyValue>()));
    entries.set(id, kv);
    this.#sorted.delete(c);
    const indexes = this.#indexes.get(c as NeutronCollection);
    if (indexes !== undefined) {
      const record = parseRecord(kv.value);
      for (const idx of indexes.values()) idx.set(id, record);
    }
  }

  #delete(c: CachedGroup, id: string, key: string, revision: number): void {
    const entries = this.#entries.get(c);
    const current = entries?.get(id);
    if (current !== undefined && current.modRevision > revision) return;
    if (entries?.delete(id) === true) this.#sorted.delete(c);
    for (const idx of this.#indexes.get(c as NeutronCollection)?.values() ?? []) idx.remove(id);
    if (entries?.size === 0 && !this.#fixed.has(c)) this.#entries.delete(c);
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
    for (const [c, entries] of this.#entries) {
      if (this.#fixed.has(c)) entries.clear();
      else this.#entries.delete(c);
    }
    this.#tombstones.clear();
    this.#sorted.clear();
    this.#indexes.clear(); // rebuilt on next use
    for (const kv of items) {
      const where = collectionOf(kv.key);
      if (where !== undefined) this.#put(where.collection, where.id, kv);
    }
    this.#watched = revision;
  }
}
