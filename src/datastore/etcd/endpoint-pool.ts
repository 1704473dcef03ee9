/** One etcd endpoint and its client, with what the pool knows of its health. */
export interface PoolMember<C> {
  readonly endpoint: string;
  client: C;
  /** Failures in a row since the last success. */
  failures: number;
  /** Monotonic ms before which the member is not tried first (0 = up). */
  downUntil: number;
}

export interface EndpointPoolOptions<C> {
  readonly endpoints: readonly string[];
  readonly makeClient: (endpoint: string) => C;
  readonly closeClient: (client: C) => void;
  readonly now: () => number;
  /** How long a member that just failed is passed over: doubled per failure in a row, capped. */
  readonly downMs?: number;
  readonly maxDownMs?: number;
  /** Which member to prefer first (0 ≤ x < 1); random by default, so processes spread out. */
  readonly random?: () => number;
}

/**
 * Which etcd member to talk to. Calls stick to one member while it answers (so a process's
 * reads and writes see one member's order) and move on when it fails: a failed member is
 * passed over for `downMs`, doubled for each failure in a row up to `maxDownMs`, and tried
 * again after that. When every member is down, the one back soonest comes first.
 */
export class EndpointPool<C> {
  readonly #o: EndpointPoolOptions<C>;
  readonly #members: PoolMember<C>[];
  #current: number;

  constructor(options: EndpointPoolOptions<C>) {
    if (options.endpoints.length === 0) throw new Error('an endpoint pool needs at least one endpoint');
    this.#o = options;
    this.#members = options.endpoints.map((endpoint) => ({ endpoint, client: options.makeClient(endpoint), failures: 0, downUntil: 0 }));
    this.#current = Math.floor((options.random ?? Math.random)() * this.#members.length) % this.#members.length;
  }

  get members(): readonly PoolMember<C>[] {
    return this.#members;
  }

  /** The members to try for one call, best first: up ones from the current round, then down ones, soonest back first. */
  order(): PoolMember<C>[] {
    const now = this.#o.now();
    const n = this.#members.length;
    const rotated = Array.from({ length: n }, (_, i) => this.#members[(this.#current + i) % n] as PoolMember<C>);
    const up = rotated.filter((m) => m.downUntil <= now);
    const down = rotated.filter((m) => m.downUntil > now).sort((a, b) => a.downUntil - b.downUntil);
    return [...up, ...down];
  }

  /** The member answered: it is up and becomes the one calls stick to. */
  succeeded(member: PoolMember<C>): void {
    member.failures = 0;
    member.downUntil = 0;
    this.#current = this.#members.indexOf(member);
  }

  /**
   * The member failed at the transport level (ignored while it is already passed over). `reset` replaces its client (a fresh connection),
   * for a connection that may be half-open: calls on it would only wait for their deadline.
   */
  failed(member: PoolMember<C>, options: { reset?: boolean } = {}): void {
    const now = this.#o.now();
    // Calls in flight when a member fails all fail together: that is one failure, not many.
    if (member.downUntil > now) return;
    member.failures += 1;
    const base = this.#o.downMs ?? 1_000;
    const cap = this.#o.maxDownMs ?? 30_000;
    member.downUntil = now + Math.min(cap, base * 2 ** Math.min(20, member.failures - 1));
    if (options.reset === true) {
      this.#o.closeClient(member.client);
      member.client = this.#o.makeClient(member.endpoint);
    }
    const i = this.#members.indexOf(member);
    if (i === this.#current) this.#current = (i + 1) % this.#members.length;
  }

  close(): void {
    for (const m of this.#members) this.#o.closeClient(m.client);
  }
}
