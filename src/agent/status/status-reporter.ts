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
    const status: FelixHostStatus = { time: new Date(clock.now()).toISOString().replace(/\.\d+Z$/, 'Z'), uptime: (clock.monotonic() - this.#started) / 1000, first_update: this.#first };
    const text = JSON.stringify(status);
    const key = felixHostStatusKey(this.#o.regionStr, this.#o.hostname);
    await kv.put(key, text, { lease: this.#lease });
    await kv.put(key.replace(/\/status$/, '/last_reported_status'), text);
    this.#first = false;
  }

  /** Brings the endpoint keys in line with `statuses`; returns false if some write failed. */
  async reportEndpoints(statuses: readonly EndpointStatus[]): Promise<boolean> {
    const { kv, regionStr, hostname } = this.#o;
    const written = this.#written ?? (await this.#readBack());
    const want = new Map<string, EndpointState>();
    for (const s of statuses) want.set(felixEndpointStatusKey(regionStr, { host: hostname, orchestrator: s.orchestrator, workload: s.workload, endpoint: s.endpoint }), s.status);
    const ops: TxnOp[] = [];
    for (const [key, status] of want) if (written.get(key) !== status) ops.push({ op: 'put', key, value: JSON.stringify({ status }) });
    for (const key of written.keys()) if (!want.has(key)) ops.push({ op: 'delete', key });
    // Many endpoints change at once when the agent starts: write them in transactions of 100.
    let ok = true;
    for (let i = 0; i < ops.length; i += TXN_OPS) {
      const chunk = ops.slice(i, i + TXN_OPS);
      try {
        await kv.txn({ compare: [], success: chunk });
        for (const op of chunk) {
          if (op.op === 'put') written.set(op.key, want.get(op.key) ?? 'error');
          else if (op.op === 'delete') written.delete(op.key);
        }
      } catch (err) {
        ok = false;
        this.#log.warn({ keys: chunk.length, err: describeError(err) }, 'Endpoint status write failed; will retry');
        break;
      }
    }
    return ok;
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
