import type { Clock, DirWatch, Fs, Timer } from '../../lib/index.js';
import { CompactedError } from '../errors.js';
import type { Watch, WatchBatch, WatchEvent } from '../kv-store.js';
import { prefixEnd } from '../kv-store.js';
import { WatchQueue } from '../watch-queue.js';
import type { EventRow } from './schema.js';

/** What the hub needs from the store: synchronous reads of the revision counters and history. */
export interface HubSource {
  currentRevision(): number;
  compactRevision(): number;
  /** Events with `from <= rev <= to`, in (rev, seq) order, optionally under a prefix. */
  events(from: number, to: number, prefix?: string): EventRow[];
}

interface HubWatcher {
  readonly prefix: string;
  readonly end: string;
  next: number;
  readonly queue: WatchQueue;
}

export interface WatchHubOptions {
  readonly source: HubSource;
  readonly clock: Clock;
  readonly fs: Fs;
  readonly dir: string;
  /** Fallback polling period while watches are open (the directory watch usually wakes us first). */
  readonly pollMs: number;
}

/** Re-check delays after a directory event that found no new commit (ms). */
const RECHECK_MS = [1, 2, 4, 8, 16, 32];

function toEvent(row: EventRow): WatchEvent {
  if (row.deleted !== 0) return { type: 'delete', key: row.key, modRevision: row.rev };
  return {
    type: 'put',
    kv: {
      key: row.key,
      value: row.value ?? '',
      createRevision: row.create_rev ?? row.rev,
      modRevision: row.rev,
      version: row.version ?? 1,
      lease: row.lease ? String(row.lease) : undefined,
    },
  };
}

function groupByRevision(rows: readonly EventRow[]): WatchBatch[] {
  const out: WatchBatch[] = [];
  let cur: { revision: number; events: WatchEvent[] } | undefined;
  for (const row of rows) {
    if (cur?.revision !== row.rev) {
      cur = { revision: row.rev, events: [] };
      out.push(cur);
    }
    cur.events.push(toEvent(row));
  }
  return out;
}

function inRange(w: HubWatcher, key: string): boolean {
  return key >= w.prefix && (w.end === '' || key < w.end);
}

/**
 * Delivers the embedded store's history to watches in this process. Writes by this process
 * poll immediately; writes by other processes are noticed through a watch on the store's
 * directory (WAL file changes), with a timer as the fallback. History that was compacted away
 * before this process read it fails the affected watches with CompactedError.
 */
export class WatchHub {
  readonly #o: WatchHubOptions;
  readonly #watchers = new Set<HubWatcher>();
  #last: number;
  #dirWatch: DirWatch | undefined;
  #timer: Timer | undefined;
  #scheduled = false;
  #closed = false;

  constructor(options: WatchHubOptions) {
    this.#o = options;
    this.#last = options.source.currentRevision();
  }

  add(prefix: string, fromRevision: number, signal?: AbortSignal): Watch {
    this.poll();
    const w: HubWatcher = {
      prefix,
      end: prefixEnd(prefix),
      next: fromRevision,
      queue: new WatchQueue(() => this.#remove(w), signal),
    };
    const compact = this.#o.source.compactRevision();
    if (fromRevision > 0 && fromRevision < compact) {
      w.queue.fail(new CompactedError(fromRevision, compact));
      return w.queue;
    }
    if (fromRevision <= 0) w.next = this.#last + 1;
    if (w.next <= this.#last) {
      for (const batch of groupByRevision(this.#o.source.events(w.next, this.#last, prefix))) w.queue.push(batch);
      w.next = this.#last + 1;
    }
    this.#watchers.add(w);
    this.#arm();
    return w.queue;
  }

  /** Reads new history and hands it to every open watch. Synchronous; cheap when nothing changed. */
  poll(): void {
    if (this.#closed) return;
    const rev = this.#o.source.currentRevision();
    if (rev <= this.#last) return;
    const compact = this.#o.source.compactRevision();
    if (compact > this.#last + 1) {
      for (const w of [...this.#watchers]) {
        if (w.next < compact) w.queue.fail(new CompactedError(w.next, compact));
      }
    }
    if (this.#watchers.size > 0) {
      const batches = groupByRevision(this.#o.source.events(Math.max(this.#last + 1, compact), rev));
      for (const w of this.#watchers) {
        for (const batch of batches) {
          if (batch.revision < w.next) continue;
          const events = batch.events.filter((e) => inRange(w, e.type === 'put' ? e.kv.key : e.key));
          if (events.length > 0) w.queue.push({ revision: batch.revision, events });
        }
        w.next = rev + 1;
      }
    }
    this.#last = rev;
  }

  close(): void {
    this.#closed = true;
    for (const w of [...this.#watchers]) w.queue.close();
    this.#disarm();
  }

  #remove(w: HubWatcher): void {
    this.#watchers.delete(w);
    if (this.#watchers.size === 0) this.#disarm();
  }

  /**
   * A directory event means another process is writing, but SQLite's WAL write is seen before
   * the commit is (the fsync is still running). So after a wake that finds nothing new, look
   * again shortly, backing off, until the commit shows or the retries run out.
   */
  #schedule = (): void => {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    const attempt = (delayIndex: number): void => {
      const before = this.#last;
      this.#safePoll();
      const delay = RECHECK_MS[delayIndex];
      if (this.#last !== before || delay === undefined || this.#closed) {
        this.#scheduled = false;
        return;
      }
      this.#o.clock.setTimer(() => attempt(delayIndex + 1), delay);
    };
    setImmediate(() => attempt(0));
  };

  #safePoll(): void {
    try {
      this.poll();
    } catch (err) {
      for (const w of [...this.#watchers]) w.queue.fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #arm(): void {
    if (this.#dirWatch === undefined) {
      try {
        this.#dirWatch = this.#o.fs.watchDir(this.#o.dir, this.#schedule);
      } catch {
        // No inotify: the timer alone keeps watches moving.
      }
    }
    if (this.#timer === undefined) {
      const tick = (): void => {
        this.#safePoll();
        this.#timer = this.#watchers.size > 0 && !this.#closed ? this.#o.clock.setTimer(tick, this.#o.pollMs, { keepAlive: true }) : undefined;
      };
      this.#timer = this.#o.clock.setTimer(tick, this.#o.pollMs, { keepAlive: true });
    }
  }

  #disarm(): void {
    this.#dirWatch?.close();
    this.#dirWatch = undefined;
    this.#timer?.cancel();
    this.#timer = undefined;
  }
}
