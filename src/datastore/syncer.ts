import { backoffDelay, describeError, ownString, realClock, silentLogger, type BackoffPolicy, type Clock, type Logger } from '../lib/index.js';
import { setMaxListeners } from 'node:events';
import { CompactedError } from './errors.js';
import type { KvStore } from './kv-store.js';

/** `waiting` until every prefix has been listed once; `resyncing` while any is being re-listed. */
export type SyncStatus = 'waiting' | 'in-sync' | 'resyncing';

/** One key's new state: `value` undefined means it is gone. */
export interface SyncUpdate {
  readonly key: string;
  readonly value: string | undefined;
  readonly revision: number;
}

export interface SyncerOptions {
  readonly kv: KvStore;
  /** Key prefixes to follow (e.g. one per resource kind). */
  readonly prefixes: readonly string[];
  /** Receives changes in order, a whole transaction (or a re-list's differences) at a time. */
  readonly onUpdates: (updates: readonly SyncUpdate[]) => void;
  readonly onStatus?: (status: SyncStatus) => void;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly backoff?: BackoffPolicy;
  /**
   * Re-list everything this often even when watches are healthy (0 = never). A routine re-list
   * keeps the status `in-sync`: nothing is wrong, and consumers get only real differences.
   */
  readonly resyncIntervalMs?: number;
}

interface PrefixState {
  readonly prefix: string;
  /** What the consumer has been told: key → [value, mod revision]. */
  /**
   * What the consumer was told, per key (without the prefix, in a string of its own): its mod
   * revision and a 32-bit digest of the value (not the value: an agent at scale follows 55,000
   * keys, and their JSON was 48 MB of its heap).
   */
  readonly known: Map<string, { digest: number; modRevision: number }>;
  synced: boolean;
  /** The revision after the last one the consumer was told of, to resume a broken watch from. */
  next: number;
}

/** FNV-1a over the UTF-16 code units: a cheap check that a value with the same revision is the same. */
function digest(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Signed, so it stays a small integer (no heap number per key).
  return h | 0;
}

/**
 * Follows prefixes of the datastore without trusting a watch alone: list, watch from the listed
 * revision; when a watch breaks, resume it from the revision after the last one delivered (on
 * whichever etcd member answers), and when that history is compacted, re-list and report only
 * what differs from what the consumer already has — so it sees no duplicates and misses nothing.
 */
export class Syncer {
  readonly #o: SyncerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #states: PrefixState[];
  readonly #abort = new AbortController();
  #status: SyncStatus = 'waiting';
  #everSynced = false;
  #loops: Promise<void>[] = [];

  constructor(options: SyncerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? realClock();
    this.#log = options.logger ?? silentLogger();
    this.#states = options.prefixes.map((prefix) => ({ prefix, known: new Map(), synced: false, next: 0 }));
    // Every prefix's watch listens to the one abort signal.
    setMaxListeners(0, this.#abort.signal);
  }

  get status(): SyncStatus {
    return this.#status;
  }

  start(): void {
    this.#o.onStatus?.(this.#status);
    this.#loops = this.#states.map((s) => this.#run(s));
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#loops);
  }

  /** Resolves once every prefix is in sync; rejects after `timeoutMs`. */
  async waitInSync(timeoutMs = 30_000): Promise<void> {
    const deadline = this.#clock.monotonic() + timeoutMs;
    while (this.#status !== 'in-sync') {
      if (this.#clock.monotonic() > deadline) throw new Error(`not in sync after ${timeoutMs} ms (status ${this.#status})`);
      await this.#clock.sleep(10);
    }
  }

  #setStatus(): void {
    let next: SyncStatus;
    if (this.#states.every((s) => s.synced)) {
      next = 'in-sync';
      this.#everSynced = true;
    } else {
      next = this.#everSynced ? 'resyncing' : 'waiting';
    }
    if (next !== this.#status) {
      this.#status = next;
      this.#log.info({ status: next }, 'syncer status');
      this.#o.onStatus?.(next);
    }
  }

  async #run(state: PrefixState): Promise<void> {
    const signal = this.#abort.signal;
    let attempt = 0;
    /** Where to resume the watch without a re-list (after a watch broke), else undefined. */
    let resume: number | undefined;
    const synced = (): void => {
      attempt = 0;
      if (state.synced) return;
      state.synced = true;
      this.#setStatus();
    };
    while (!signal.aborted) {
      try {
        if (resume === undefined) {
          state.next = (await this.#relist(state)) + 1;
          synced();
        }
        resume = undefined;
        await this.#follow(state, synced);
      } catch (err) {
        if (signal.aborted) break;
        state.synced = false;
        this.#setStatus();
        // A compacted history (or a failed list) needs a re-list; a watch that broke otherwise
        // resumes from where it was, so the consumer hears nothing twice and nothing is lost.
        resume = err instanceof CompactedError || state.next === 0 ? undefined : state.next;
        const delay = err instanceof CompactedError ? 0 : backoffDelay(attempt++, this.#o.backoff);
        this.#log.warn(
          { prefix: state.prefix, err: describeError(err), retryInMs: delay, ...(resume === undefined ? {} : { resumeFrom: resume }) },
          resume === undefined ? 'syncer re-listing' : 'syncer resuming its watch',
        );
        try {
          await this.#clock.sleep(delay, signal);
        } catch {
          break;
        }
      }
    }
  }

  /** Lists the prefix and reports only what changed since the consumer last heard. */
  async #relist(state: PrefixState): Promise<number> {
    const { items, revision } = await this.#o.kv.list(state.prefix);
    const updates: SyncUpdate[] = [];
    const seen = new Set<string>();
    const from = state.prefix.length;
    for (const kv of items) {
      const rest = kv.key.slice(from);
      seen.add(rest);
      const prev = state.known.get(rest);
      if (prev === undefined || prev.modRevision !== kv.modRevision || prev.digest !== digest(kv.value)) {
        updates.push({ key: kv.key, value: kv.value, revision: kv.modRevision });
      }
    }
    for (const rest of state.known.keys()) {
      if (!seen.has(rest)) updates.push({ key: `${state.prefix}${rest}`, value: undefined, revision });
    }
    this.#deliver(state, updates);
    return revision;
  }

  /**
   * Hands updates to the consumer, then records them as told. If the consumer throws, nothing
   * is recorded, so the re-list that follows the error offers the same updates again.
   */
  #deliver(state: PrefixState, updates: readonly SyncUpdate[]): void {
    if (updates.length === 0 || this.#abort.signal.aborted) return;
    this.#o.onUpdates(updates);
    const from = state.prefix.length;
    for (const u of updates) {
      if (u.value === undefined) state.known.delete(u.key.slice(from));
      else state.known.set(ownString(u.key.slice(from)), { digest: digest(u.value), modRevision: u.revision });
    }
  }

  /** Watches from `state.next`, delivering as it goes; `onReady` once the watch is in place. */
  async #follow(state: PrefixState, onReady: () => void): Promise<void> {
    const signal = this.#abort.signal;
    const interval = this.#o.resyncIntervalMs ?? 0;
    const watch = this.#o.kv.watch(state.prefix, { fromRevision: state.next, signal });
    const timer = interval > 0 ? this.#clock.setTimer(() => watch.close(), interval) : undefined;
    void watch.ready.then((inPlace) => {
      if (inPlace) onReady();
    });
    try {
      for await (const batch of watch) {
        const updates: SyncUpdate[] = [];
        for (const e of batch.events) {
          if (e.type === 'put') updates.push({ key: e.kv.key, value: e.kv.value, revision: e.kv.modRevision });
          else if (state.known.has(e.key.slice(state.prefix.length))) updates.push({ key: e.key, value: undefined, revision: batch.revision });
        }
        this.#deliver(state, updates);
        state.next = batch.revision + 1;
      }
    } finally {
      timer?.cancel();
      watch.close();
    }
    // A watch that ends without an error was closed for a periodic resync (or we are stopping).
  }
}
