import { backoffDelay, describeError, type BackoffPolicy, type Clock, type Logger, type Timer } from '../../lib/index.js';
import type { PortRecord } from '../records.js';

/** One os-server-external-events entry (reference/neutron-api.md §4.5). */
export interface NovaEvent {
  readonly server_uuid: string;
  readonly name: 'network-vif-plugged' | 'network-vif-unplugged' | 'network-changed' | 'network-vif-deleted';
  readonly tag: string;
  readonly status?: 'completed' | 'failed';
}

/** What the API tells about ports; the Nova notifier listens, a no-op otherwise. */
export interface PortEvents {
  portStatusChanged(before: PortRecord, after: PortRecord): void;
  portUpdated(before: PortRecord, after: PortRecord): void;
  portDeleted(port: PortRecord): void;
  /** A floating IP was associated with or taken from the port. */
  floatingIpChanged(port: PortRecord): void;
  close(): Promise<void>;
}

export const NO_PORT_EVENTS: PortEvents = {
  portStatusChanged: () => {},
  portUpdated: () => {},
  portDeleted: () => {},
  floatingIpChanged: () => {},
  close: () => Promise.resolve(),
};

/** The HTTP seam: POST a JSON body, get the status back. */
export type HttpPost = (url: string, body: unknown, headers: Readonly<Record<string, string>>) => Promise<{ status: number }>;

export const fetchPost: HttpPost = async (url, body, headers) => {
  const r = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
    signal: AbortSignal.timeout(10_000),
  });
  await r.arrayBuffer();
  return { status: r.status };
};

const UUID_LIKE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Only ports Nova owns get events (neutron/notifiers/nova.py). */
function isComputePort(p: PortRecord): boolean {
  return UUID_LIKE.test(p.device_id) && p.device_owner.startsWith('compute:');
}

const DATA_FIELDS: readonly (keyof PortRecord)[] = [
  'fixed_ips',
  'mac_address',
  'security_groups',
  'allowed_address_pairs',
  'device_id',
  'binding:host_id',
  'binding:vif_type',
  'port_security_enabled',
  'admin_state_up',
  'extra_dhcp_opts',
];

/** Where the notifier gets the token it sends Nova: Brindle's Keystone service token (`fresh`: the last one was refused). */
export type NovaTokenSource = (fresh: boolean) => Promise<string>;

/** Attempts per batch of events, and the backoff between them (about 30 s in all). */
const SEND_ATTEMPTS = 6;
const SEND_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 15_000, factor: 2 };

export interface NovaNotifierOptions {
  /** Nova's compute API root, e.g. http://nova:8774/v2.1 */
  readonly url: string;
  /** The X-Auth-Token to send: Brindle's service token with Keystone; without one, a placeholder (Nova without auth). */
  readonly token?: NovaTokenSource;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly post?: HttpPost;
  /** Events are batched for this long (Neutron's send_events_interval). */
  readonly intervalMs?: number;
}

/**
 * Sends Neutron's port events to Nova's os-server-external-events, batched: vif-plugged when a
 * compute port turns ACTIVE (failed on ERROR), vif-unplugged when it goes ACTIVE → DOWN,
 * network-changed on data updates, vif-deleted on delete. A batch that Nova does not take (no
 * answer, a 5xx, or a 401: then with a fresh service token) is sent again with backoff, about
 * 30 s in all, then dropped with a log line; a 4xx other than 401 is final (404: no such server,
 * as Neutron treats it). Batches go one after another, apart from the API's requests: a port's
 * status never waits for Nova.
 */
export class NovaNotifier implements PortEvents {
  readonly #o: NovaNotifierOptions;
  readonly #post: HttpPost;
  #queue: NovaEvent[] = [];
  #timer: Timer | undefined;
  #sending: Promise<void> = Promise.resolve();
  readonly #closing = new AbortController();

  constructor(options: NovaNotifierOptions) {
    this.#o = options;
    this.#post = options.post ?? fetchPost;
  }

  portStatusChanged(before: PortRecord, after: PortRecord): void {
    if (!isComputePort(after)) return;
    if (after.status === 'ACTIVE' && before.status !== 'ACTIVE')
      this.#add({ server_uuid: after.device_id, name: 'network-vif-plugged', status: 'completed', tag: after.id });
    else if (after.status === 'ERROR' && before.status !== 'ERROR')
      this.#add({ server_uuid: after.device_id, name: 'network-vif-plugged', status: 'failed', tag: after.id });
    else if (after.status === 'DOWN' && before.status === 'ACTIVE')
      this.#add({ server_uuid: after.device_id, name: 'network-vif-unplugged', status: 'completed', tag: after.id });
  }

  portUpdated(before: PortRecord, after: PortRecord): void {
    const port = isComputePort(after) ? after : isComputePort(before) ? before : undefined;
    if (port === undefined) return;
    if (DATA_FIELDS.some((f) => JSON.stringify(before[f]) !== JSON.stringify(after[f])))
      this.#add({ server_uuid: port.device_id, name: 'network-changed', tag: port.id });
  }

  floatingIpChanged(port: PortRecord): void {
    if (isComputePort(port)) this.#add({ server_uuid: port.device_id, name: 'network-changed', tag: port.id });
  }

  portDeleted(port: PortRecord): void {
    if (isComputePort(port)) this.#add({ server_uuid: port.device_id, name: 'network-vif-deleted', tag: port.id });
  }

  async close(): Promise<void> {
    this.#timer?.cancel();
    this.#flush();
    this.#closing.abort(); // a batch waiting to be sent again is not waited for
    await this.#sending;
  }

  #add(e: NovaEvent): void {
    this.#queue.push(e);
    this.#timer ??= this.#o.clock.setTimer(() => this.#flush(), this.#o.intervalMs ?? 200, { keepAlive: true });
  }

  #flush(): void {
    this.#timer = undefined;
    const events = this.#queue;
    this.#queue = [];
    if (events.length === 0) return;
    const url = `${this.#o.url.replace(/\/$/, '')}/os-server-external-events`;
    this.#sending = this.#sending.then(() => this.#send(url, events));
  }

  async #send(url: string, events: readonly NovaEvent[]): Promise<void> {
    const signal = this.#closing.signal;
    let fresh = false;
    for (let attempt = 0; attempt < SEND_ATTEMPTS; attempt++) {
      if (attempt > 0) {
        const waited = await this.#o.clock.sleep(backoffDelay(attempt - 1, SEND_BACKOFF), signal).then(
          () => true,
          () => false,
        );
        if (!waited) break;
      }
      let status: number | undefined;
      try {
        const token: string = this.#o.token === undefined ? 'notused' : await this.#o.token(fresh);
        status = (await this.#post(url, { events }, { 'X-OpenStack-Nova-API-Version': '2.1', 'X-Auth-Token': token })).status;
      } catch (err) {
        this.#o.logger.warn({ err: describeError(err), events: events.length, attempt: attempt + 1 }, 'could not send port events to Nova');
        continue;
      }
      if (status < 300 || status === 404) return;
      fresh = status === 401;
      this.#o.logger.warn({ status, events: events.length, attempt: attempt + 1 }, 'Nova refused port events');
      if (status < 500 && status !== 401) return;
    }
    this.#o.logger.error({ events: events.length }, 'gave up sending port events to Nova');
  }
}
