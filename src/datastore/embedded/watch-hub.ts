import type { Clock, DirWatch, Fs, Timer } from '../../lib/index.js';
import { CompactedError } from '../errors.js';
import type { Watch, WatchBatch, WatchEvent } from '../kv-store.js';
import { prefixEnd } from '../kv-store.js';
import { WatchQueue } from '../watch-queue.js';
import type { EventRow } from './schema.js';

/** What the hub needs from the store: synchronous reads. */
export interface HubSource {
  /** The current revision (a cheap check for "anything new?"). */
  currentRevision(): number;
  /**
   * In one read transaction: the current revision, the compaction point, and the events with
   * `from <= rev <= revision` (in (rev, seq) order, optionally under a prefix) — so a compaction
   * can never slip between reading the history and checking what was compacted.
   */
  snapshot(from: number, prefix?: string): { revision: number; compactRevision: number; events: EventRow[] };
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
      next: fromRevision <= 0 ? this.#last + 1 : fromRevision,
      queue: new WatchQueue(() => this.#remove(w), signal),
    };
    if (w.next <= this.#last) {
      // Catch up from history, up to what poll() has delivered to everyone else.
      const snap = this.#o.source.snapshot(w.next, prefix);
      if (w.next < snap.compactRevision) {
        w.queue.fail(new CompactedError(w.next, snap.compactRevision));
        return w.queue;
      }
      for (const batch of groupByRevision(snap.events.filter((e) => e.rev <= this.#last))) w.queue.push(batch);
      w.next = this.#last + 1;
    }
    this.#watchers.add(w);
    this.#arm();
    // In place at once: the hub delivers every revision after `#last` to it.
    w.queue.established();
    return w.queue;
  }

  /** Reads new history and hands it to every open watch. Synchronous; cheap when nothing changed. */
  poll(): void {
    if (this.#closed) return;
    if (this.#o.source.currentRevision() <= this.#last) return;
    const { revision, compactRevision, events } = this.#o.source.snapshot(this.#last + 1);
    if (compactRevision > this.#last + 1) {
      // History we never read is gone: watches that still needed it must re-list.
      for (const w of [...this.#watchers]) {
        if (w.next < compactRevision) w.queue.fail(new CompactedError(w.next, compactRevision));
      }
    }
    if (this.#watchers.size > 0) {
      const batches = groupByRevision(events);
      for (const w of this.#watchers) {
        for (const batch of batches) {
          if (batch.revision < w.next) continue;
          const mine = batch.events.filter((e) => inRange(w, e.type === 'put' ? e.kv.key : e.key));
          if (mine.length > 0) w.queue.push({ revision: batch.revision, events: mine });
        }
        // A watch that starts in the future keeps its start.
        w.next = Math.max(w.next, revision + 1);
      }
    }
    this.#last = Math.max(this.#last, revision);
  }

  /** Polls soon, off the caller's stack (after our own commit, if polling at once failed). */
  wake(): void {
    this.#schedule();
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
