import type { KvStore } from '../../datastore/index.js';
import { describeError, type Clock, type Logger } from '../../lib/index.js';
import { formatElectionValue, parseElectionValue, LEGACY_ELECTION_KEY } from '../../model/index.js';

export interface ElectorOptions {
  readonly kv: KvStore;
  readonly key: string;
  readonly name: string;
  readonly pid: number;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Lease TTL in seconds (networking-calico: 60); the master refreshes every TTL/6. */
  readonly ttlSeconds?: number;
  /** Whether a PID on this host still runs (to clear a crashed holder's key at once). */
  readonly isProcessAlive?: (pid: number) => boolean;
  readonly onChange: (isMaster: boolean) => void;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * networking-calico's master election: whoever create-puts the election key on its lease is
 * master, re-puts it (compare-and-swap on its own value) and keeps the lease alive every TTL/6,
 * and steps down on any failure. Others watch the key and try again when it goes. A key left by
 * a dead process of this same host is removed at once; a graceful stop deletes the key.
 */
export class Elector {
  readonly #o: ElectorOptions;
  readonly #value: string;
  readonly #abort = new AbortController();
  #master = false;
  #lease: string | undefined;
  #loop: Promise<void> | undefined;
  #refreshes = 0;
  #deferrals = 0;

  constructor(options: ElectorOptions) {
    this.#o = options;
    this.#value = formatElectionValue({ name: options.name, pid: options.pid });
  }

  get isMaster(): boolean {
    return this.#master;
  }

  /** Refreshes of key and lease made as master, and times it found the key held by another and waited. */
  get stats(): { refreshes: number; deferrals: number } {
    return { refreshes: this.#refreshes, deferrals: this.#deferrals };
  }

  start(): void {
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    if (this.#master) {
      await this.#o.kv.delete(this.#o.key, { condition: { value: this.#value } }).catch(() => undefined);
      if (this.#lease !== undefined) await this.#o.kv.revokeLease(this.#lease).catch(() => undefined);
      this.#setMaster(false);
    }
  }

  #setMaster(m: boolean): void {
    if (m === this.#master) return;
    this.#master = m;
    this.#o.logger.info({ key: this.#o.key, master: m }, m ? 'became master' : 'no longer master');
    this.#o.onChange(m);
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const ttl = this.#o.ttlSeconds ?? 60;
    while (!signal.aborted) {
      try {
        const cur = await this.#o.kv.get(this.#o.key);
        if (cur === undefined) {
          const lease = await this.#o.kv.grantLease(ttl);
          const r = await this.#o.kv.txn({
            compare: [{ key: this.#o.key, target: 'version', op: '==', value: 0 }],
            success: [
              { op: 'put', key: this.#o.key, value: this.#value, lease: lease.id },
              { op: 'put', key: LEGACY_ELECTION_KEY, value: this.#value, lease: lease.id },
            ],
          });
          if (!r.succeeded) {
            await this.#o.kv.revokeLease(lease.id);
            continue;
          }
          this.#lease = lease.id;
          this.#setMaster(true);
          await this.#holdMastership(lease.id, (ttl * 1000) / 6, ttl * 1000);
          continue;
        }
        const holder = parseElectionValue(cur.value);
        if (holder?.name === this.#o.name && holder.pid !== this.#o.pid && !(this.#o.isProcessAlive ?? processAlive)(holder.pid)) {
          this.#o.logger.info({ holder: cur.value }, 'removing the election key of a dead process on this host');
          await this.#o.kv.delete(this.#o.key, { condition: { value: cur.value } });
          continue;
        }
        this.#deferrals++;
        await this.#waitForChange(cur.modRevision + 1, ttl * 1000);
      } catch (err) {
        if (signal.aborted) break;
        this.#setMaster(false);
        this.#o.logger.warn({ err: describeError(err) }, 'election error; retrying');
        await this.#o.clock.sleep(1000 + Math.random() * 1000, signal).catch(() => undefined);
      }
    }
  }

  /**
   * Refreshes lease and key until a refresh fails, the last good refresh is older than the TTL
   * (this process cannot tell whether its lease survived), or we stop. On losing mastership it
   * gives up key and lease at once, so another server takes over without waiting for expiry.
   */
  async #holdMastership(lease: string, everyMs: number, ttlMs: number): Promise<void> {
    const signal = this.#abort.signal;
    let lastGood = this.#o.clock.monotonic();
    try {
      while (!signal.aborted) {
        await this.#o.clock.sleep(everyMs, signal);
        if (this.#o.clock.monotonic() - lastGood > ttlMs) throw new Error('no successful refresh within the lease TTL');
        await this.#o.kv.keepAliveLease(lease);
        const r = await this.#o.kv.put(this.#o.key, this.#value, { lease, condition: { value: this.#value } });
        if (!r.succeeded) throw new Error('the election key was taken over');
        lastGood = this.#o.clock.monotonic();
        this.#refreshes++;
      }
    } catch (err) {
      if (signal.aborted) return;
      this.#o.logger.warn({ err: describeError(err) }, 'lost mastership');
      this.#setMaster(false);
      this.#lease = undefined;
      await this.#o.kv.delete(this.#o.key, { condition: { value: this.#value } }).catch(() => undefined);
      await this.#o.kv.revokeLease(lease).catch(() => undefined);
    }
  }

  /** Waits until the election key changes (or `timeoutMs`), so followers react to a release at once. */
  async #waitForChange(fromRevision: number, timeoutMs: number): Promise<void> {
    const ac = new AbortController();
    const onAbort = (): void => ac.abort();
    this.#abort.signal.addEventListener('abort', onAbort, { once: true });
    const timer = this.#o.clock.setTimer(() => ac.abort(), timeoutMs);
    const watch = this.#o.kv.watch(this.#o.key, { fromRevision, signal: ac.signal });
    try {
      for await (const batch of watch) if (batch.events.some((e) => e.type === 'delete')) break;
    } finally {
      timer.cancel();
      watch.close();
      this.#abort.signal.removeEventListener('abort', onAbort);
    }
  }
}
