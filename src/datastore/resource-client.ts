import { randomUUID } from 'node:crypto';
import { realClock, type Clock } from '../lib/index.js';
import {
  kindInfo,
  parseResourceKey,
  resourceKey,
  resourcePrefix,
  validateResource,
  type CalicoResource,
  type KindName,
  type ResourceOf,
} from '../model/index.js';
import { InvalidStoredValueError, InvalidTxnError, ResourceConflictError, ResourceExistsError, ResourceNotFoundError } from './errors.js';
import type { Compare, KeyValue, KvStore, TxnOp } from './kv-store.js';

/** What to do with one resource in a commit (calicoctl's verbs). */
export type ResourceAction = 'create' | 'replace' | 'apply' | 'delete';

/** A resource's identity: kind, name and (for namespaced kinds) namespace. */
export interface ResourceRef {
  readonly kind: KindName;
  readonly name: string;
  readonly namespace?: string;
}

export type ResourceOp =
  | { readonly action: 'create' | 'replace' | 'apply'; readonly resource: CalicoResource }
  | { readonly action: 'delete'; readonly ref: ResourceRef; readonly resourceVersion?: string };

export interface CommitOptions {
  /** `create` leaves resources that already exist as they are instead of failing. */
  readonly skipExisting?: boolean;
  /** `delete` ignores resources that are already gone instead of failing. */
  readonly skipMissing?: boolean;
}

/** What happened to one op: written (created or updated), deleted, or skipped. */
export interface CommitOutcome {
  readonly ref: ResourceRef;
  readonly result: 'written' | 'deleted' | 'skipped';
  /** The resource as stored now (written) or as it was (deleted; absent if it was corrupt). */
  readonly resource?: CalicoResource;
}

/** A stored resource that failed to decode: reported, never fatal. */
export interface InvalidResource {
  readonly key: string;
  readonly error: Error;
}

export interface ResourceClientOptions {
  readonly clock?: Clock;
  readonly newUid?: () => string;
  /** Largest number of writes in one transaction (etcd's default --max-txn-ops is 128). */
  readonly maxOpsPerTxn?: number;
  /** Attempts when a concurrent writer changes a key between our read and our write. */
  readonly maxAttempts?: number;
}

interface ChunkPlan {
  readonly compare: Compare[];
  readonly writes: TxnOp[];
  readonly outcomes: CommitOutcome[];
}

type Meta = { name: string; namespace?: string; uid?: string; creationTimestamp?: string; resourceVersion?: string };

function metaOf(r: CalicoResource): Meta {
  return r.metadata as Meta;
}

/** The ref of a resource. */
export function refOf(r: CalicoResource): ResourceRef {
  const m = metaOf(r);
  return { kind: r.kind, name: m.name, ...(m.namespace === undefined ? {} : { namespace: m.namespace }) };
}

/** `Kind namespace/name`, for messages. */
export function describeRef(ref: ResourceRef): string {
  return `${ref.kind} ${ref.namespace === undefined ? '' : `${ref.namespace}/`}${ref.name}`;
}

function describe(r: CalicoResource): string {
  return describeRef(refOf(r));
}

function keyOf(r: CalicoResource): string {
  return resourceKey(refOf(r));
}

function opRef(op: ResourceOp): ResourceRef {
  return op.action === 'delete' ? op.ref : refOf(op.resource);
}

/** The stored form: resourceVersion is the key's mod revision, so it is never stored. */
function encode(r: CalicoResource): string {
  const { resourceVersion: _rv, ...metadata } = metaOf(r);
  return JSON.stringify({ ...r, metadata });
}

/** Decodes a syncer's update of a resource key (its value present) as decodeResource does. */
export function decodeSyncedResource(u: { readonly key: string; readonly value: string; readonly revision: number }): CalicoResource {
  return decodeResource({ key: u.key, value: u.value, modRevision: u.revision, createRevision: u.revision, version: 1, lease: undefined });
}

/** Decodes and validates a stored resource, stamping resourceVersion from the mod revision. */
export function decodeResource(kv: KeyValue): CalicoResource {
  let doc: unknown;
  try {
    doc = JSON.parse(kv.value);
  } catch (err) {
    throw new InvalidStoredValueError(kv.key, 'not JSON', err);
  }
  let r: CalicoResource;
  try {
    r = validateResource(doc);
  } catch (err) {
    throw new InvalidStoredValueError(kv.key, err instanceof Error ? err.message : String(err), err);
  }
  const id = parseResourceKey(kv.key);
  if (id === undefined || id.kind !== r.kind || id.name !== metaOf(r).name || id.namespace !== metaOf(r).namespace) {
    throw new InvalidStoredValueError(kv.key, 'kind, name or namespace does not match its key');
  }
  (r.metadata as Meta).resourceVersion = String(kv.modRevision);
  return r;
}

/**
 * Typed access to Calico v3 resources in the datastore. Every write is a commit: read the keys,
 * check each operation against what is there, then write everything in one transaction guarded
 * on the mod revisions just read, retrying from the read if a concurrent writer got in first.
 * So a batch is all-or-nothing, and an explicit metadata.resourceVersion is a compare-and-swap.
 */
export class ResourceClient {
  readonly #kv: KvStore;
  readonly #clock: Clock;
  readonly #uid: () => string;
  readonly #maxOps: number;
  readonly #attempts: number;

  constructor(kv: KvStore, options: ResourceClientOptions = {}) {
    this.#kv = kv;
    this.#clock = options.clock ?? realClock();
    this.#uid = options.newUid ?? randomUUID;
    this.#maxOps = options.maxOpsPerTxn ?? 100;
    this.#attempts = options.maxAttempts ?? 5;
  }

  async get<K extends KindName>(kind: K, name: string, namespace?: string): Promise<ResourceOf<K> | undefined> {
    const key = resourceKey({ kind, name, ...(namespace === undefined ? {} : { namespace }) });
    const kv = await this.#kv.get(key);
    return kv === undefined ? undefined : (decodeResource(kv) as ResourceOf<K>);
  }

  /** Every resource of a kind (in one namespace, or all namespaces when omitted). */
  async list<K extends KindName>(kind: K, namespace?: string): Promise<{ items: ResourceOf<K>[]; invalid: InvalidResource[]; revision: number }> {
    const { items, revision } = await this.#kv.list(resourcePrefix(kindInfo(kind), namespace));
    const good: ResourceOf<K>[] = [];
    const invalid: InvalidResource[] = [];
    for (const kv of items) {
      try {
        good.push(decodeResource(kv) as ResourceOf<K>);
      } catch (err) {
        invalid.push({ key: kv.key, error: err instanceof Error ? err : new Error(String(err)) });
      }
    }
    return { items: good, invalid, revision };
  }

  /** The raw stored entry of a resource (for `writeIfUnchanged`): undefined when absent. */
  readEntry(kind: KindName, name: string, namespace?: string): Promise<KeyValue | undefined> {
    return this.#kv.get(resourceKey({ kind, name, ...(namespace === undefined ? {} : { namespace }) }));
  }

  /**
   * networking-calico's write discipline: the caller read the entry (`seen`) *before* reading
   * the source of truth, then computed `desired` (or `undefined` to delete). The write happens
   * only if the entry is still as seen, so a slower writer can never overwrite a newer one;
   * false tells the caller to start again from the read. uid and creationTimestamp are kept.
   */
  async writeIfUnchanged(
    id: { kind: KindName; name: string; namespace?: string },
    seen: KeyValue | undefined,
    desired: CalicoResource | undefined,
  ): Promise<boolean> {
    const key = resourceKey(id);
    const compare: Compare =
      seen === undefined ? { key, target: 'version', op: '==', value: 0 } : { key, target: 'modRevision', op: '==', value: seen.modRevision };
    if (desired === undefined) {
      if (seen === undefined) return true;
      return (await this.#kv.txn({ compare: [compare], success: [{ op: 'delete', key }] })).succeeded;
    }
    if (keyOf(desired) !== key) throw new InvalidTxnError(`${describe(desired)} does not belong at ${key}`);
    const { write } = this.#plan({ action: 'apply', resource: desired }, seen, {});
    if (write === undefined) return true;
    return (await this.#kv.txn({ compare: [compare], success: [write] })).succeeded;
  }

  create<R extends CalicoResource>(resource: R): Promise<R> {
    return this.#one('create', resource);
  }
  /** Replaces an existing resource (compare-and-swap when metadata.resourceVersion is set). */
  update<R extends CalicoResource>(resource: R): Promise<R> {
    return this.#one('replace', resource);
  }
  /** Creates or replaces, keeping uid and creationTimestamp of what was there. */
  apply<R extends CalicoResource>(resource: R): Promise<R> {
    return this.#one('apply', resource);
  }
  /** Deletes one resource (a compare-and-swap when `resourceVersion` is given); returns what it was. */
  async delete(kind: KindName, name: string, namespace?: string, resourceVersion?: string): Promise<CalicoResource | undefined> {
    const ref: ResourceRef = { kind, name, ...(namespace === undefined ? {} : { namespace }) };
    const [outcome] = await this.commit([{ action: 'delete', ref, ...(resourceVersion === undefined ? {} : { resourceVersion }) }]);
    return outcome?.resource;
  }

  /**
   * Applies several operations as one unit. Every op is checked against what is stored before
   * anything is written, so a bad op fails the whole batch with nothing written; the error
   * names the resource. Writes go out in transactions of at most maxOpsPerTxn ops, each
   * guarded on the revisions read: a batch that needs several transactions is atomic per
   * transaction only if a concurrent writer changes one of its keys between them.
   */
  async commit(ops: readonly ResourceOp[], options: CommitOptions = {}): Promise<CommitOutcome[]> {
    const keys = new Set<string>();
    for (const op of ops) {
      const key = resourceKey(opRef(op));
      if (keys.has(key)) throw new InvalidTxnError(`${describeRef(opRef(op))} appears twice`);
      keys.add(key);
    }
    const chunks: ResourceOp[][] = [];
    for (let i = 0; i < ops.length; i += this.#maxOps) chunks.push(ops.slice(i, i + this.#maxOps));
    // Check everything first, so an invalid op anywhere writes nothing anywhere.
    const first = await Promise.all(chunks.map((c) => this.#planChunk(c, options)));
    const out: CommitOutcome[] = [];
    for (let i = 0; i < chunks.length; i++) out.push(...(await this.#commitChunk(chunks[i] ?? [], options, first[i])));
    return out;
  }

  async #one<R extends CalicoResource>(action: 'create' | 'replace' | 'apply', resource: R): Promise<R> {
    const [outcome] = await this.commit([{ action, resource }]);
    return outcome?.resource as R;
  }

  async #planChunk(ops: readonly ResourceOp[], options: CommitOptions): Promise<ChunkPlan> {
    const current = await Promise.all(ops.map((op) => this.#kv.get(resourceKey(opRef(op)))));
    const compare: Compare[] = [];
    const writes: TxnOp[] = [];
    const outcomes: CommitOutcome[] = [];
    ops.forEach((op, i) => {
      const key = resourceKey(opRef(op));
      const stored = current[i];
      const planned = this.#plan(op, stored, options);
      outcomes.push(planned.outcome);
      if (planned.write === undefined) return;
      compare.push(stored === undefined ? { key, target: 'version', op: '==', value: 0 } : { key, target: 'modRevision', op: '==', value: stored.modRevision });
      writes.push(planned.write);
    });
    return { compare, writes, outcomes };
  }

  async #commitChunk(ops: readonly ResourceOp[], options: CommitOptions, plan: ChunkPlan | undefined): Promise<CommitOutcome[]> {
    let p = plan ?? (await this.#planChunk(ops, options));
    for (let attempt = 1; ; attempt++) {
      if (p.writes.length === 0) return p.outcomes;
      const r = await this.#kv.txn({ compare: p.compare, success: p.writes });
      if (r.succeeded) {
        return p.outcomes.map((o) => {
          if (o.result === 'written' && o.resource !== undefined) (o.resource.metadata as Meta).resourceVersion = String(r.revision);
          return o;
        });
      }
      if (attempt >= this.#attempts) {
        throw new ResourceConflictError(
          ops.length === 1 && ops[0] ? describeRef(opRef(ops[0])) : `${ops.length} resources`,
          `gave up after ${attempt} attempts`,
        );
      }
      p = await this.#planChunk(ops, options);
    }
  }

  /** Checks one operation against the stored value and works out what to write. */
  #plan(op: ResourceOp, stored: KeyValue | undefined, options: CommitOptions): { outcome: CommitOutcome; write: TxnOp | undefined } {
    const ref = opRef(op);
    const key = resourceKey(ref);
    const what = describeRef(ref);
    const wanted = op.action === 'delete' ? op.resourceVersion : metaOf(op.resource).resourceVersion;
    if (wanted !== undefined) {
      if (op.action === 'create') throw new InvalidTxnError(`${what}: metadata.resourceVersion must not be set on create`);
      if (stored === undefined) throw new ResourceConflictError(what, `resourceVersion ${wanted} is stale (it no longer exists)`);
      if (String(stored.modRevision) !== wanted) throw new ResourceConflictError(what, `resourceVersion ${wanted} is stale (now ${stored.modRevision})`);
    }
    if (op.action === 'delete') {
      if (stored === undefined) {
        if (options.skipMissing === true) return { outcome: { ref, result: 'skipped' }, write: undefined };
        throw new ResourceNotFoundError(what);
      }
      let old: CalicoResource | undefined;
      try {
        old = decodeResource(stored);
      } catch {
        old = undefined; // a corrupt stored value can still be deleted
      }
      return { outcome: { ref, result: 'deleted', ...(old === undefined ? {} : { resource: old }) }, write: { op: 'delete', key } };
    }
    if (op.action === 'create' && stored !== undefined) {
      if (options.skipExisting === true) return { outcome: { ref, result: 'skipped' }, write: undefined };
      throw new ResourceExistsError(what);
    }
    if (op.action === 'replace' && stored === undefined) throw new ResourceNotFoundError(what);
    let previous: Meta | undefined;
    if (stored !== undefined) {
      try {
        previous = metaOf(decodeResource(stored));
      } catch {
        previous = undefined; // a corrupt stored value is simply overwritten
      }
    }
    const meta = metaOf(op.resource);
    const resource = structuredClone(op.resource);
    const m = resource.metadata as Meta;
    delete m.resourceVersion;
    m.uid = previous?.uid ?? meta.uid ?? this.#uid();
    m.creationTimestamp = previous?.creationTimestamp ?? meta.creationTimestamp ?? new Date(this.#clock.now()).toISOString().replace(/\.\d+Z$/, 'Z');
    // Re-validate what will be stored, so nothing invalid is ever written.
    validateResource(resource);
    return { outcome: { ref, result: 'written', resource }, write: { op: 'put', key, value: encode(resource) } };
  }
}
