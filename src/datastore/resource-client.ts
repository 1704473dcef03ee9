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

export interface ResourceOp {
  readonly action: ResourceAction;
  readonly resource: CalicoResource;
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

type Meta = { name: string; namespace?: string; uid?: string; creationTimestamp?: string; resourceVersion?: string };

function metaOf(r: CalicoResource): Meta {
  return r.metadata as Meta;
}

function describe(r: CalicoResource): string {
  const m = metaOf(r);
  return `${r.kind} ${m.namespace === undefined ? '' : `${m.namespace}/`}${m.name}`;
}

function keyOf(r: CalicoResource): string {
  const m = metaOf(r);
  return resourceKey({ kind: r.kind, name: m.name, ...(m.namespace === undefined ? {} : { namespace: m.namespace }) });
}

/** The stored form: resourceVersion is the key's mod revision, so it is never stored. */
function encode(r: CalicoResource): string {
  const { resourceVersion: _rv, ...metadata } = metaOf(r);
  return JSON.stringify({ ...r, metadata });
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
  async list<K extends KindName>(
    kind: K,
    namespace?: string,
  ): Promise<{ items: ResourceOf<K>[]; invalid: InvalidResource[]; revision: number }> {
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
  async delete(kind: KindName, name: string, namespace?: string, resourceVersion?: string): Promise<CalicoResource> {
    const existing = await this.get(kind, name, namespace);
    if (existing === undefined) throw new ResourceNotFoundError(`${kind} ${namespace === undefined ? '' : `${namespace}/`}${name}`);
    if (resourceVersion !== undefined) (existing.metadata as Meta).resourceVersion = resourceVersion;
    else delete (existing.metadata as Meta).resourceVersion;
    const [deleted] = await this.commit([{ action: 'delete', resource: existing }]);
    return deleted as CalicoResource;
  }

  /**
   * Applies several operations atomically (in transactions of at most maxOpsPerTxn writes; a
   * larger batch is split and is atomic per chunk). Throws, writing nothing in the failing chunk,
   * when an operation does not fit what is stored; the error names the resource.
   */
  async commit(ops: readonly ResourceOp[]): Promise<CalicoResource[]> {
    const keys = new Set<string>();
    for (const op of ops) {
      const key = keyOf(op.resource);
      if (keys.has(key)) throw new InvalidTxnError(`${describe(op.resource)} appears twice`);
      keys.add(key);
    }
    const out: CalicoResource[] = [];
    for (let i = 0; i < ops.length; i += this.#maxOps) out.push(...(await this.#commitChunk(ops.slice(i, i + this.#maxOps))));
    return out;
  }

  async #one<R extends CalicoResource>(action: ResourceAction, resource: R): Promise<R> {
    const [r] = await this.commit([{ action, resource }]);
    return r as R;
  }

  async #commitChunk(ops: readonly ResourceOp[]): Promise<CalicoResource[]> {
    for (let attempt = 1; ; attempt++) {
      const current = await Promise.all(ops.map((op) => this.#kv.get(keyOf(op.resource))));
      const compare: Compare[] = [];
      const writes: TxnOp[] = [];
      const results: CalicoResource[] = [];
      ops.forEach((op, i) => {
        const key = keyOf(op.resource);
        const stored = current[i];
        const { resource, write } = this.#plan(op, stored);
        compare.push(
          stored === undefined
            ? { key, target: 'version', op: '==', value: 0 }
            : { key, target: 'modRevision', op: '==', value: stored.modRevision },
        );
        writes.push(write);
        results.push(resource);
      });
      const r = await this.#kv.txn({ compare, success: writes });
      if (r.succeeded) {
        return results.map((res, i) => {
          if (ops[i]?.action !== 'delete') (res.metadata as Meta).resourceVersion = String(r.revision);
          return res;
        });
      }
      if (attempt >= this.#attempts) {
        throw new ResourceConflictError(ops.length === 1 && ops[0] ? describe(ops[0].resource) : `${ops.length} resources`, `gave up after ${attempt} attempts`);
      }
    }
  }

  /** Checks one operation against the stored value and works out what to write. */
  #plan(op: ResourceOp, stored: KeyValue | undefined): { resource: CalicoResource; write: TxnOp } {
    const key = keyOf(op.resource);
    const what = describe(op.resource);
    const wanted = metaOf(op.resource).resourceVersion;
    if (wanted !== undefined && stored !== undefined && String(stored.modRevision) !== wanted && op.action !== 'create') {
      throw new ResourceConflictError(what, `resourceVersion ${wanted} is stale (now ${stored.modRevision})`);
    }
    if (op.action === 'delete') {
      if (stored === undefined) throw new ResourceNotFoundError(what);
      return { resource: decodeResource(stored), write: { op: 'delete', key } };
    }
    if (op.action === 'create' && stored !== undefined) throw new ResourceExistsError(what);
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
    return { resource, write: { op: 'put', key, value: encode(resource) } };
  }
}
