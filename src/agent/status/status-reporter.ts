import { LeaseNotFoundError, type KvStore, type LeaseId, type TxnOp } from '../../datastore/index.js';

/** Status writes per datastore transaction. */
const TXN_OPS = 100;
import { felixEndpointStatusKey, felixHostPrefix, felixHostStatusKey, type FelixHostStatus } from '../../model/index.js';
import { describeError, silentLogger, type Clock, type Logger } from '../../lib/index.js';

export type EndpointState = 'up' | 'down' | 'error';

/** One local endpoint's status, keyed the way Felix keys it. */
export interface EndpointStatus {
  readonly orchestrator: string;
  readonly workload: string;
  readonly endpoint: string;
  readonly status: EndpointState;
}

export interface StatusReporterOptions {
  readonly kv: KvStore;
  readonly clock: Clock;
  readonly hostname: string;
  /** `no-region` or `region-<name>`. */
  readonly regionStr: string;
  /** ReportingTTLSecs. */
  readonly ttlSeconds?: number;
  readonly logger?: Logger;
}

/**
 * Writes what Felix writes for OpenStack: the host's leased status key (so Neutron lists the
 * agent as alive) with `last_reported_status` beside it, and one `{"status": …}` key per local
 * endpoint (so Neutron turns ports ACTIVE). Endpoint keys are written only when they change and
 * deleted when the endpoint goes; a failed write stays pending and is retried on the next call.
 */
export class StatusReporter {
  readonly #o: StatusReporterOptions;
  readonly #log: Logger;
  readonly #started: number;
  /** ReportingTTL, in seconds (set from the FelixConfiguration once it is known). */
  ttlSeconds: number;
  #lease: LeaseId | undefined;
  #first = true;
  /** What the datastore holds, as far as we know (key → status). */
  #written: Map<string, EndpointState> | undefined;
  /** Keys to bring to a status (undefined = delete) that are not written yet. */
  readonly #pending = new Map<string, EndpointState | undefined>();

  constructor(o: StatusReporterOptions) {
    this.#o = o;
    this.#log = o.logger ?? silentLogger();
    this.#started = o.clock.monotonic();
    this.ttlSeconds = o.ttlSeconds ?? 90;
  }

  /** Writes the host status on its lease (renewed, or granted again once it has expired). */
  async reportHost(): Promise<void> {
    const { kv, clock } = this.#o;
    const ttl = this.ttlSeconds;
    if (this.#lease !== undefined) {
      try {
        await kv.keepAliveLease(this.#lease);
      } catch (err) {
        if (!(err instanceof LeaseNotFoundError)) throw err;
        this.#lease = undefined;
      }
    }
    this.#lease ??= (await kv.grantLease(ttl)).id;
    const status: FelixHostStatus = {
      time: new Date(clock.now()).toISOString().replace(/\.\d+Z$/, 'Z'),
      uptime: (clock.monotonic() - this.#started) / 1000,
      first_update: this.#first,
    };
    const text = JSON.stringify(status);
    const key = felixHostStatusKey(this.#o.regionStr, this.#o.hostname);
    await kv.put(key, text, { lease: this.#lease });
    await kv.put(key.replace(/\/status$/, '/last_reported_status'), text);
    this.#first = false;
  }

  #key(s: { orchestrator: string; workload: string; endpoint: string }): string {
    return felixEndpointStatusKey(this.#o.regionStr, { host: this.#o.hostname, orchestrator: s.orchestrator, workload: s.workload, endpoint: s.endpoint });
  }

  /**
   * Brings every endpoint key in line with `statuses`, the whole list (keys of endpoints not in it
   * are deleted): the first report, when the datastore may hold keys of endpoints that went
   * while the agent was down. Returns false if some write failed (it stays pending).
   */
  async reportEndpoints(statuses: readonly EndpointStatus[]): Promise<boolean> {
    const written = this.#written ?? (await this.#readBack());
    const want = new Map<string, EndpointState>();
    for (const s of statuses) want.set(this.#key(s), s.status);
    this.#pending.clear();
    for (const [key, status] of want) this.#pending.set(key, status);
    for (const key of written.keys()) if (!want.has(key)) this.#pending.set(key, undefined);
    return this.#flush(written);
  }

  /**
   * Writes what changed since the last report: each endpoint's new status, or its deletion
   * (`status: undefined`). Costs the changes, not the host's endpoints. Returns false if some
   * write failed (it stays pending and goes with the next report).
   */
  async reportEndpointChanges(changes: readonly (Omit<EndpointStatus, 'status'> & { readonly status: EndpointState | undefined })[]): Promise<boolean> {
    const written = this.#written ?? (await this.#readBack());
    for (const c of changes) this.#pending.set(this.#key(c), c.status);
    return this.#flush(written);
  }

  /** Writes the pending keys that differ from what the datastore holds (callers run one at a time). */
  async #flush(written: Map<string, EndpointState>): Promise<boolean> {
    const todo: { key: string; status: EndpointState | undefined }[] = [];
    for (const [key, status] of this.#pending) {
      if (status === undefined ? !written.has(key) : written.get(key) === status) this.#pending.delete(key);
      else todo.push({ key, status });
    }
    // Many endpoints change at once when the agent starts: write them in transactions of 100.
    for (let i = 0; i < todo.length; i += TXN_OPS) {
      const chunk = todo.slice(i, i + TXN_OPS);
      const ops: TxnOp[] = chunk.map(({ key, status }) =>
        status === undefined ? { op: 'delete', key } : { op: 'put', key, value: JSON.stringify({ status }) },
      );
      try {
        await this.#o.kv.txn({ compare: [], success: ops });
      } catch (err) {
        this.#log.warn({ keys: chunk.length, err: describeError(err) }, 'Endpoint status write failed; will retry');
        return false;
      }
      for (const { key, status } of chunk) {
        if (status === undefined) written.delete(key);
        else written.set(key, status);
        this.#pending.delete(key);
      }
    }
    return true;
  }

  /** Deletes the host status key at once (a clean shutdown), so Neutron sees the agent go. */
  async withdraw(): Promise<void> {
    if (this.#lease !== undefined) await this.#o.kv.revokeLease(this.#lease);
    this.#lease = undefined;
  }

  async #readBack(): Promise<Map<string, EndpointState>> {
    const prefix = `${felixHostPrefix(this.#o.regionStr)}${this.#o.hostname}/workload/`;
    const listed = await this.#o.kv.list(prefix);
    const out = new Map<string, EndpointState>();
    for (const kv of listed.items) {
      try {
        const v = (JSON.parse(kv.value) as { status?: unknown }).status;
        out.set(kv.key, v === 'up' || v === 'down' || v === 'error' ? v : 'error');
      } catch {
        out.set(kv.key, 'error');
      }
    }
    this.#written = out;
    return out;
  }
}
