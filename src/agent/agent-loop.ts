import type { SyncStatus } from '../datastore/index.js';
import { backoffDelay, describeError, silentLogger, type Clock, type Logger, type Timer } from '../lib/index.js';
import type { CalcUpdate } from './calc/model.js';
import type { ApplyTimings, IfaceState } from './dataplane/dataplane.js';

/** What the loop needs of the dataplane (the managers); tests give it a recording fake. */
export interface LoopDataplane {
  ingest(update: CalcUpdate): void;
  setIfaces(ifaces: ReadonlyMap<string, IfaceState>, changed?: Iterable<string>): void;
  apply(): Promise<ApplyTimings>;
  markForResync(): void;
}

/** What the loop needs of the calculation. */
export interface LoopCalc {
  flush(): CalcUpdate;
  /** True once since the last call if the FelixConfiguration changed. */
  takeConfigChanged(): boolean;
}

/**
 * Where the loop is:
 * - `waiting-for-sync`: the datastore has not been in sync yet; nothing touches the kernel.
 * - `waiting-for-interfaces`: in sync, the dataplane made, the interface monitor's first listing not in.
 * - `applying`: an apply is running.
 * - `idle`: the kernel is as the calculation wants it; waiting for a change.
 * - `backing-off`: the last apply failed; everything will be read back and tried again.
 * - `stopped`.
 */
export type LoopState = 'waiting-for-sync' | 'waiting-for-interfaces' | 'applying' | 'idle' | 'backing-off' | 'stopped';

export interface AgentLoopOptions<D extends LoopDataplane> {
  readonly clock: Clock;
  readonly calc: LoopCalc;
  /** Called once, at the first in-sync: makes the dataplane (and starts what feeds interfaces in). */
  readonly startDataplane: () => D;
  /** After each apply that succeeded (the first one included). */
  readonly onApplied?: (dp: D, t: ApplyTimings, info: { first: boolean; ms: number }) => void;
  readonly logger?: Logger;
  /** Coalescing window for bursts after the first apply (default 5 ms). */
  readonly coalesceMs?: number;
  /** The loop wakes at least this often when idle, so liveness sees progress (default 10 s). */
  readonly idleWakeMs?: number;
}

/**
 * The agent's main loop (Felix's internal dataplane loop), as an object with explicit states:
 * it waits for the first in-sync and the first interface listing, then turns every burst of
 * changes (datastore updates, interface events, resync requests) into one apply — the
 * calculation's flush, the interfaces, `apply()` — and retries a failed apply with backoff after
 * marking everything for read-back (nothing is flushed or rolled back: fail closed).
 */
export class AgentLoop<D extends LoopDataplane> {
  readonly #o: AgentLoopOptions<D>;
  readonly #log: Logger;
  #state: LoopState = 'waiting-for-sync';
  #sync: SyncStatus = 'waiting';
  #dataplane: D | undefined;
  #pending = true;
  #wake: (() => void) | undefined;
  #idleTimer: Timer | undefined;
  #ifaces: ReadonlyMap<string, IfaceState> = new Map();
  #ifacesReady = false;
  /** Interfaces changed since the last apply; undefined = look at all of them. */
  #ifacesChanged: Set<string> | undefined;
  #running: Promise<void> | undefined;
  /** Aborted by `stop()`: ends a backoff or coalescing sleep at once. */
  readonly #abort = new AbortController();
  #applies = 0;
  #failures = 0;
  #consecutiveFailures = 0;
  #lastApplyOk = false;
  #lastProgress: number;

  constructor(options: AgentLoopOptions<D>) {
    this.#o = options;
    this.#log = options.logger ?? silentLogger();
    this.#lastProgress = options.clock.monotonic();
  }

  get state(): LoopState {
    return this.#state;
  }

  get sync(): SyncStatus {
    return this.#sync;
  }

  get dataplane(): D | undefined {
    return this.#dataplane;
  }

  /** Applies that succeeded, applies that failed, and whether the last one succeeded. */
  get counts(): { applies: number; failures: number; lastApplyOk: boolean } {
    return { applies: this.#applies, failures: this.#failures, lastApplyOk: this.#lastApplyOk };
  }

  /** Ready: in sync, and the last apply (of at least one) succeeded. */
  get ready(): boolean {
    return this.#sync === 'in-sync' && this.#applies > 0 && this.#lastApplyOk;
  }

  /** When the loop last made progress (monotonic ms), for the liveness watchdog. */
  get lastProgress(): number {
    return this.#lastProgress;
  }

  /** The syncer's status changed. */
  setSyncStatus(status: SyncStatus): void {
    this.#sync = status;
    this.schedule();
  }

  /** The interface monitor's latest view; `changed` names what changed (undefined = look at all). */
  setIfaces(ifaces: ReadonlyMap<string, IfaceState>, changed: Iterable<string> | undefined): void {
    this.#ifaces = ifaces;
    if (changed === undefined || this.#ifacesChanged === undefined) this.#ifacesChanged = undefined;
    else for (const name of changed) this.#ifacesChanged.add(name);
    this.#ifacesReady = true;
    this.schedule();
  }

  /** Something changed (datastore updates, a resync request): an apply is due. */
  schedule(): void {
    this.#pending = true;
    this.#wake?.();
  }

  /** Starts the loop (once). */
  start(): void {
    this.#running ??= this.#run();
  }

  /** Stops the loop after the apply in flight, if any. */
  async stop(): Promise<void> {
    this.#state = 'stopped';
    this.#abort.abort();
    this.#wake?.();
    this.#idleTimer?.cancel();
    await this.#running;
  }

  async #run(): Promise<void> {
    const { clock } = this.#o;
    while (!this.#stopped()) {
      if (!this.#pending) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          this.#idleTimer = clock.setTimer(resolve, this.#o.idleWakeMs ?? 10_000);
        });
        this.#idleTimer?.cancel();
        this.#wake = undefined;
        this.#lastProgress = clock.monotonic();
        continue;
      }
      // Let a burst of updates coalesce into one apply (a datastore batch arrives at once; this
      // catches the ones just behind it without delaying every add much).
      if (!(await this.#sleep(this.#applies === 0 ? 0 : (this.#o.coalesceMs ?? 5)))) break;
      this.#pending = false;
      if (this.#sync !== 'in-sync' && this.#dataplane === undefined) {
        this.#state = 'waiting-for-sync';
        continue;
      }
      const dp = (this.#dataplane ??= this.#o.startDataplane());
      if (!this.#ifacesReady) {
        this.#state = 'waiting-for-interfaces';
        continue;
      }
      await this.#applyOnce(dp);
    }
  }

  /** Sleeps unless stopped meanwhile; false once stopped. */
  async #sleep(ms: number): Promise<boolean> {
    try {
      await this.#o.clock.sleep(ms, this.#abort.signal);
    } catch {
      return false;
    }
    return !this.#stopped();
  }

  // A method, not a comparison in place: the state changes across awaits (stop()).
  #stopped(): boolean {
    return this.#state === 'stopped';
  }

  async #applyOnce(dp: D): Promise<void> {
    const { clock } = this.#o;
    if (this.#o.calc.takeConfigChanged()) this.#log.warn('FelixConfiguration changed: restart the agent to apply it');
    this.#state = 'applying';
    const t0 = clock.monotonic();
    let t: ApplyTimings;
    try {
      dp.ingest(this.#o.calc.flush());
      dp.setIfaces(this.#ifaces, this.#ifacesChanged);
      this.#ifacesChanged = new Set();
      t = await dp.apply();
    } catch (err) {
      this.#failures++;
      this.#consecutiveFailures++;
      this.#lastApplyOk = false;
      this.#log.error({ err: describeError(err), attempt: this.#consecutiveFailures }, 'Dataplane apply failed; reading the kernel back and retrying');
      dp.markForResync();
      this.#pending = true;
      if (this.#state === 'applying') this.#state = 'backing-off';
      await this.#sleep(backoffDelay(this.#consecutiveFailures, { initialMs: 50, maxMs: 5_000, factor: 2 }));
      return;
    }
    this.#applies++;
    this.#consecutiveFailures = 0;
    this.#lastApplyOk = true;
    this.#lastProgress = clock.monotonic();
    if (this.#state === 'applying') this.#state = 'idle';
    // After the bookkeeping, outside the apply's failure handling: a listener's trouble is not
    // the dataplane's (it is logged; the loop goes on).
    try {
      this.#o.onApplied?.(dp, t, { first: this.#applies === 1, ms: clock.monotonic() - t0 });
    } catch (err) {
      this.#log.error({ err: describeError(err) }, 'After an apply: a listener failed');
    }
  }
}
