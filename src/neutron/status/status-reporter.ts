import { Syncer, type SyncUpdate } from '../../datastore/index.js';
import { describeError } from '../../lib/index.js';
import { electionKey, felixEndpointStatusSchema, felixHostPrefix, parseFelixStatusKey } from '../../model/index.js';
import type { PortRecord } from '../records.js';
import type { NeutronServices } from '../service/neutron-services.js';
import { Elector } from './elector.js';

const STATUS: Record<'up' | 'down' | 'error', PortRecord['status']> = { up: 'ACTIVE', down: 'DOWN', error: 'ERROR' };

export interface StatusReporterOptions {
  readonly services: NeutronServices;
  readonly electorName: string;
  readonly electionTtlSeconds?: number;
}

/**
 * The elected API server's background job (networking-calico's status watchers): follows the
 * agents' status keys and turns each endpoint's `up`/`down`/`error` into port status
 * ACTIVE/DOWN/ERROR, which in turn sends Nova `network-vif-plugged`. A deleted endpoint key
 * makes a port that is still bound to that host ERROR. Only the master does this, so several
 * API servers never fight over port status.
 */
export class StatusReporter {
  readonly #o: StatusReporterOptions;
  readonly #elector: Elector;
  #syncer: Syncer | undefined;
  #chain: Promise<void> = Promise.resolve();

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
    await this.#elector.stop();
    await this.#stopWatching();
    await this.#chain;
  }

  #startWatching(): void {
    const d = this.#o.services.deps;
    this.#syncer = new Syncer({
      kv: d.kv,
      prefixes: [felixHostPrefix(d.regionString)],
      clock: d.clock,
      logger: d.logger,
      onUpdates: (updates) => {
        // Port status writes are async; keep them in order, off the syncer's stack.
        this.#chain = this.#chain.then(() => this.#apply(updates)).catch((err: unknown) => d.logger.warn({ err: describeError(err) }, 'port status update failed'));
      },
    });
    this.#syncer.start();
  }

  async #stopWatching(): Promise<void> {
    const s = this.#syncer;
    this.#syncer = undefined;
    await s?.stop();
  }

  async #apply(updates: readonly SyncUpdate[]): Promise<void> {
    const { deps: d, ports, events } = this.#o.services;
    for (const u of updates) {
      const key = parseFelixStatusKey(d.regionString, u.key);
      if (key?.type !== 'endpoint') continue;
      let status: PortRecord['status'];
      if (u.value === undefined) {
        const port = await d.store.get('ports', key.endpoint);
        if (port === undefined || port.record['binding:host_id'] !== key.host) continue;
        status = 'ERROR';
      } else {
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
      const changed = await ports.setStatus(key.endpoint, status);
      if (changed !== undefined) events.portStatusChanged(changed.before, changed.after);
    }
  }
}
