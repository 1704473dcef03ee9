import { backoffDelay } from './backoff.js';
import { describeError } from './brindle-error.js';
import type { Logger } from './logger.js';
import type { Clock, Timer } from './shims/clock.js';

export interface ReconcileLoopOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Makes the world match the wanted state; a throw is retried with backoff. */
  readonly apply: () => Promise<void>;
  /** Runs every `checkIntervalMs` (supervision, status); a throw is logged. */
  readonly check: () => Promise<void>;
  readonly checkIntervalMs: number;
  /** Bursts of changes within this window make one apply (default 50 ms). */
  readonly coalesceMs?: number;
  /** What the log says when an apply or a check fails (`BGP configuration`, `dnsmasq`). */
  readonly what: string;
}

/**
 * The loop of a module that renders a daemon's configuration from the datastore (BGP's BIRD,
 * DHCP's dnsmasq): changes schedule one coalesced apply; a failed apply is retried with
 * backoff; a periodic check runs between applies, never at the same time (one chain of
 * promises); nothing applies before `start()` (the caller's first in-sync).
 */
export class ReconcileLoop {
  readonly #o: ReconcileLoopOptions;
  #started = false;
  #stopped = false;
  #failures = 0;
  #applyTimer: Timer | undefined;
  #checkTimer: Timer | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(o: ReconcileLoopOptions) {
    this.#o = o;
  }

  /** Starts applying (at once) and checking. */
  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.schedule(0);
    this.#loop();
  }

  /** Something changed: apply soon (bursts coalesce). */
  schedule(delayMs = this.#o.coalesceMs ?? 50): void {
    if (this.#stopped || !this.#started || this.#applyTimer !== undefined) return;
    this.#applyTimer = this.#o.clock.setTimer(() => {
      this.#applyTimer = undefined;
      this.#chain = this.#chain.then(async () => {
        try {
          await this.#o.apply();
          this.#failures = 0;
        } catch (err) {
          this.#failures++;
          this.#o.logger.warn({ err: describeError(err), failures: this.#failures }, `${this.#o.what} apply failed; retrying`);
          this.schedule(backoffDelay(this.#failures));
        }
      });
    }, delayMs);
  }

  /** Stops both timers and waits for the apply or check in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#applyTimer?.cancel();
    this.#checkTimer?.cancel();
    await this.#chain.catch(() => {});
  }

  #loop(): void {
    if (this.#stopped) return;
    this.#checkTimer = this.#o.clock.setTimer(() => {
      this.#chain = this.#chain
        .then(() => this.#o.check())
        .catch((err: unknown) => this.#o.logger.warn({ err: describeError(err) }, `${this.#o.what} check failed`))
        .finally(() => this.#loop());
    }, this.#o.checkIntervalMs);
  }
}
