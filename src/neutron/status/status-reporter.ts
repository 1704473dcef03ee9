import { Syncer, type SyncUpdate } from '../../datastore/index.js';
import { describeError, type Timer } from '../../lib/index.js';
import { electionKey, felixEndpointStatusSchema, felixHostPrefix, parseFelixStatusKey } from '../../model/index.js';
import type { PortRecord } from '../records.js';
import { resync } from '../service/resync.js';
import type { NeutronServices } from '../service/neutron-services.js';
import { checkCompaction } from './compactor.js';
import { Elector } from './elector.js';

const STATUS: Record<'up' | 'down' | 'error', PortRecord['status']> = { up: 'ACTIVE', down: 'DOWN', error: 'ERROR' };

export interface StatusReporterOptions {
  readonly services: NeutronServices;
  readonly electorName: string;
  readonly electionTtlSeconds?: number;
  /** How often the master re-runs the resync (0 = never; default 120 s). */
  readonly resyncIntervalMs?: number;
  /**
   * etcd compaction by the master (networking-calico's): every `periodSeconds` (0 = never;
   * default 3,600), keeping at least `minRevisions` (default 1,000). Only on etcd: the embedded
   * store compacts itself.
   */
  readonly compaction?: { readonly periodSeconds?: number; readonly minRevisions?: number };
}

/** What the agent last said about a port's endpoint, waiting to be written to the port. */
interface Wanted {
  readonly status: PortRecord['status'];
  readonly host: string;
  readonly workload: string;
}

const WORKERS = 4;

/**
 * The elected API server's background jobs (networking-calico's status watchers and, as its
 * older releases did, a periodic resync):
 * - follows the agents' status keys and turns each endpoint's `up`/`down`/`error` into port
 *   status ACTIVE/DOWN/ERROR (and so Nova's `network-vif-plugged`); a deleted endpoint key means
 *   ERROR. A report counts only for the port's current host and instance. Writes that fail are
 *   retried until they land or a newer report replaces them.
 * - re-runs the resync every `resyncIntervalMs`, repairing Calico resources a crashed request
 *   left behind;
 * - requests etcd compaction once a period (`compactor.ts`), checking every minute.
 * Only the master does this, so several API servers never fight over port status.
 */
export class StatusReporter {
  readonly #o: StatusReporterOptions;
  readonly #elector: Elector;
  #syncer: Syncer | undefined;
  /** Port id → the status it should get; the newest report replaces an older one not yet written. */
  readonly #wanted = new Map<string, Wanted>();
  readonly #busy = new Set<string>();
  #workers: Promise<void>[] = [];
  #stopping = false;
  #resyncTimer: Timer | undefined;
  #compactionTimer: Timer | undefined;

  constructor(options: StatusReporterOptions) {
    this.#o = options;
    const d = options.services.deps;
    this.#elector = new Elector({
      kv: d.kv,
      key: electionKey(d.regionString),
      name: options.electorName,
      pid: process.pid,
      clock: d.clock,
      logger: d.logger,
      ...(options.electionTtlSeconds === undefined ? {} : { ttlSeconds: options.electionTtlSeconds }),
      onChange: (master) => (master ? this.#startWatching() : void this.#stopWatching()),
    });
  }

  get isMaster(): boolean {
    return this.#elector.isMaster;
  }

  start(): void {
    this.#elector.start();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#elector.stop();
    await this.#stopWatching();
    await Promise.all(this.#workers);
  }

  #startWatching(): void {
    const d = this.#o.services.deps;
    const every = this.#o.resyncIntervalMs ?? 120_000;
    if (every > 0) {
      const loop = (): void => {
        this.#resyncTimer = d.clock.setTimer(() => {
          void resync(d).then((r) => {
            if (!r.ok) d.logger.warn({ error: r.error }, 'periodic resync failed');
            else if (Object.values(r.phases).some((p) => p.created + p.updated + p.deleted > 0))
              d.logger.info({ phases: r.phases }, 'periodic resync repaired Calico resources');
            if (this.#syncer !== undefined) loop();
          });
        }, every);
      };
      loop();
    }
    this.#startCompaction();
    this.#syncer = new Syncer({
      kv: d.kv,
      prefixes: [felixHostPrefix(d.regionString)],
      clock: d.clock,
      logger: d.logger,
      onUpdates: (updates) => this.#record(updates),
    });
    this.#syncer.start();
  }

  #startCompaction(): void {
    const d = this.#o.services.deps;
    const periodSeconds = this.#o.compaction?.periodSeconds ?? 3_600;
    if (d.kv.backend !== 'etcd' || periodSeconds <= 0) return;
    const check = (): void => {
      void checkCompaction({ kv: d.kv, periodSeconds, minRevisions: this.#o.compaction?.minRevisions ?? 1_000, owner: `${this.#o.electorName}:${process.pid}` })
        .then((r) => {
          if (r.outcome === 'compacted') d.logger.info({ compactedTo: r.compactedTo, revision: r.revision }, 'etcd compacted');
          else if (r.outcome !== 'not-due') d.logger.debug({ ...r }, 'etcd compaction check');
        })
        .catch((err: unknown) => d.logger.warn({ err: describeError(err) }, 'etcd compaction check failed; trying again at the next check'))
        .finally(() => {
          if (this.#syncer !== undefined) this.#compactionTimer = d.clock.setTimer(check, Math.min(60, periodSeconds) * 1_000);
        });
    };
    check();
  }

  async #stopWatching(): Promise<void> {
    this.#resyncTimer?.cancel();
    this.#resyncTimer = undefined;
    this.#compactionTimer?.cancel();
    this.#compactionTimer = undefined;
    const s = this.#syncer;
    this.#syncer = undefined;
    await s?.stop();
  }

  /** Turns status-key updates into wanted port statuses (synchronous: nothing here can fail). */
  #record(updates: readonly SyncUpdate[]): void {
    const regionStr = this.#o.services.deps.regionString;
    for (const u of updates) {
      const key = parseFelixStatusKey(regionStr, u.key);
      if (key?.type !== 'endpoint') continue;
      let status: PortRecord['status'] = 'ERROR';
      if (u.value !== undefined) {
        let value: unknown;
        try {
          value = JSON.parse(u.value);
        } catch {
          continue; // a corrupt status value is ignored, as Felix's own readers do
        }
        const parsed = felixEndpointStatusSchema.safeParse(value);
        if (!parsed.success) continue;
        status = STATUS[parsed.data.status];
      }
      this.#wanted.set(key.endpoint, { status, host: key.host, workload: key.workload });
    }
    while (this.#workers.length < WORKERS && this.#wanted.size > this.#busy.size) {
      const w: Promise<void> = this.#work().finally(() => {
        this.#workers = this.#workers.filter((x) => x !== w);
      });
      this.#workers.push(w);
    }
  }

  /** Writes wanted statuses until none is left; a failed write is retried after a pause. */
  async #work(): Promise<void> {
    const { deps: d, ports } = this.#o.services;
    for (;;) {
      const next = [...this.#wanted].find(([id]) => !this.#busy.has(id));
      if (next === undefined || this.#stopping) return;
      const [id, wanted] = next;
      this.#busy.add(id);
      try {
        await ports.setStatus(id, wanted.status, { host: wanted.host, workload: wanted.workload });
        if (this.#wanted.get(id) === wanted) this.#wanted.delete(id);
      } catch (err) {
        d.logger.warn({ port: id, err: describeError(err) }, 'port status update failed; retrying');
        await d.clock.sleep(1_000 + Math.random() * 1_000).catch(() => undefined);
      } finally {
        this.#busy.delete(id);
      }
    }
  }
}
