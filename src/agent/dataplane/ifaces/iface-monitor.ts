import { backoffDelay, describeError, silentLogger, type ChildHandle, type Clock, type Exec, type Logger, type Timer } from '../../../lib/index.js';
import { IfaceListError } from './errors.js';
import { parseLinkEvent, type LinkEvent } from './parse-link-event.js';

/** One workload interface. `up` = admin up and carrier (flags UP and LOWER_UP). */
export interface IfaceInfo {
  readonly up: boolean;
  readonly index: number;
  readonly mac: string;
}

export type IfaceMap = ReadonlyMap<string, IfaceInfo>;

export interface IfaceMonitorOptions {
  readonly exec: Exec;
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly interfacePrefixes: readonly string[];
  /**
   * Called with the whole map after the first list, then whenever it changed; `changed` names
   * the interfaces that differ from the previous call (undefined on the first).
   */
  readonly onChange: (ifaces: IfaceMap, changed: ReadonlySet<string> | undefined) => void;
  readonly refreshIntervalMs?: number;
  /** Delay between a monitor event and the re-list it triggers (events coalesce meanwhile). */
  readonly debounceMs?: number;
  readonly timeoutMs?: number;
}

export interface IfaceMonitorStats {
  readonly lists: number;
  readonly changes: number;
  readonly restarts: number;
  readonly errors: number;
}

/** A monitor child that lived this long is healthy: its successor restarts without backoff. */
const HEALTHY_CHILD_MS = 5_000;
/** The child subscribes some time after spawning; a second list covers events in between. */
const SETTLE_LIST_MS = 200;

function sameInfo(x: IfaceInfo | undefined, y: IfaceInfo | undefined): boolean {
  return x === y || (x !== undefined && y !== undefined && x.up === y.up && x.index === y.index && x.mac === y.mac);
}

function sameMaps(a: IfaceMap, b: IfaceMap): boolean {
  if (a.size !== b.size) return false;
  for (const [name, x] of a) if (!sameInfo(x, b.get(name))) return false;
  return true;
}

/**
 * Watches workload interfaces. Each `ip -o monitor link` line says how one link now is, and is
 * applied at once (a new tap costs one line, not a listing of every link on the host); a line it
 * cannot read, the child's start and the periodic refresh make it list every link with
 * `ip -j link show`. A listing that overlapped events is not applied (it may predate them):
 * another follows. Restarts the monitor child with backoff if it dies.
 */
export class IfaceMonitor {
  readonly #exec: Exec;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #prefixes: readonly string[];
  readonly #onChange: (ifaces: IfaceMap, changed: ReadonlySet<string> | undefined) => void;
  readonly #refreshMs: number;
  readonly #debounceMs: number;
  readonly #timeoutMs: number;
  #current: IfaceMap = new Map();
  /** Interface index → name, for renames and deletions (an event names the index). */
  readonly #nameByIndex = new Map<number, string>();
  /** Names changed since the last onChange (undefined: report the whole map as new). */
  #changedNames: Set<string> | undefined;
  #inSync = false;
  #running = false;
  #stopped = false;
  #child: ChildHandle | undefined;
  #childStarted = 0;
  #restartAttempt = 0;
  readonly #timers = new Map<'debounce' | 'refresh' | 'restart' | 'settle', Timer>();
  #inflight: Promise<IfaceMap> | undefined;
  #queued: Promise<IfaceMap> | undefined;
  #lists = 0;
  /** Events applied since the running list started: its result may be older than they are. */
  #eventsDuringList = false;
  #partialLine = '';
  #changes = 0;
  #restarts = 0;
  #errors = 0;

  constructor(options: IfaceMonitorOptions) {
    this.#exec = options.exec;
    this.#clock = options.clock;
    this.#log = options.logger ?? silentLogger();
    this.#prefixes = [...options.interfacePrefixes];
    this.#onChange = options.onChange;
    this.#refreshMs = options.refreshIntervalMs ?? 90_000;
    this.#debounceMs = options.debounceMs ?? 20;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** True once a list succeeded (and onChange was called with it). */
  get inSync(): boolean {
    return this.#inSync;
  }

  /** The last listed map. */
  get ifaces(): IfaceMap {
    return this.#current;
  }

  /** PID of the `ip monitor` child, if one is running (diagnostics). */
  get monitorPid(): number | undefined {
    return this.#child?.pid;
  }

  get stats(): IfaceMonitorStats {
    return { lists: this.#lists, changes: this.#changes, restarts: this.#restarts, errors: this.#errors };
  }

  /** Starts the monitor child, an immediate list and the periodic refresh. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopped = false;
    this.#spawn();
    this.#scheduleRefresh();
  }

  /** Kills the monitor child (by PID) and cancels every timer; waits for an in-flight list. No onChange after this. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stopped = true;
    for (const t of this.#timers.values()) t.cancel();
    this.#timers.clear();
    const child = this.#child;
    this.#child = undefined;
    if (child !== undefined) {
      child.kill('SIGTERM');
      let timer: Timer | undefined;
      const killed = await Promise.race([
        child.exited.then(() => true),
        new Promise<false>((resolve) => (timer = this.#clock.setTimer(() => resolve(false), 2_000))),
      ]);
      timer?.cancel();
      if (!killed) child.kill('SIGKILL');
    }
    await (this.#queued ?? this.#inflight)?.catch(() => undefined);
  }

  /**
   * Lists now (or right after a list already running) and returns the map; calls onChange when
   * it changed, or on the first successful list. Throws IfaceListError.
   */
  listNow(): Promise<IfaceMap> {
    if (this.#inflight === undefined) return this.#runList();
    this.#queued ??= this.#inflight.then(
      () => this.#afterQueued(),
      () => this.#afterQueued(),
    );
    return this.#queued;
  }

  #afterQueued(): Promise<IfaceMap> {
    this.#queued = undefined;
    return this.#runList();
  }

  #runList(): Promise<IfaceMap> {
    const p = this.#list().finally(() => {
      if (this.#inflight === p) this.#inflight = undefined;
    });
    this.#inflight = p;
    return p;
  }

  async #list(): Promise<IfaceMap> {
    this.#lists++;
    this.#eventsDuringList = false;
    // One line per link, as `ip -o monitor link` prints them (parsed by the same function): with
    // thousands of links, far cheaper than JSON read through a schema.
    const result = await this.#exec.run('ip', ['-o', 'link', 'show'], { timeoutMs: this.#timeoutMs });
    if (result.code !== 0) {
      this.#errors++;
      throw new IfaceListError(result.stderr.split('\n')[0]?.trim() || `exit ${result.code ?? result.signal ?? '?'}`);
    }
    const links: LinkEvent[] = [];
    for (const line of result.stdout.split('\n')) {
      if (line.trim() === '') continue;
      const link = parseLinkEvent(line);
      if (link === undefined) {
        this.#errors++;
        throw new IfaceListError(`unreadable line: ${line.slice(0, 120)}`);
      }
      if (this.#prefixes.some((p) => link.name.startsWith(p))) links.push(link);
    }
    const next = new Map<string, IfaceInfo>();
    for (const l of links.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) next.set(l.name, { up: l.up, index: l.index, mac: l.mac });
    if (this.#eventsDuringList) {
      // Events newer than this listing may have been applied meanwhile: another listing
      // confirms; until it does, keep what the events built (the first listing is taken anyway,
      // or a host whose links never rest would never be in sync).
      this.#listSoon();
      if (this.#inSync) return this.#current;
    }
    const changed = !this.#inSync || !sameMaps(this.#current, next);
    if (changed && this.#inSync) {
      const names = (this.#changedNames ??= new Set());
      for (const [name, info] of next) if (!sameInfo(this.#current.get(name), info)) names.add(name);
      for (const name of this.#current.keys()) if (!next.has(name)) names.add(name);
    }
    this.#current = next;
    this.#nameByIndex.clear();
    for (const [name, info] of next) this.#nameByIndex.set(info.index, name);
    this.#inSync = true;
    if (changed) this.#emit();
    return next;
  }

  #emit(): void {
    if (this.#stopped) return;
    this.#changes++;
    try {
      const changed = this.#changedNames;
      this.#changedNames = new Set();
      this.#onChange(this.#current, changed);
    } catch (err) {
      this.#log.error({ err: describeError(err) }, 'Interface change handler failed');
    }
  }

  /** Lines from the monitor child; a partial last line waits for the rest. */
  #onMonitorData(chunk: string): void {
    const lines = (this.#partialLine + chunk).split('\n');
    this.#partialLine = lines.pop() ?? '';
    let changed = false;
    for (const line of lines) {
      if (line.trim() === '') continue;
      const ev = parseLinkEvent(line);
      if (ev === undefined) {
        this.#log.debug({ line }, 'Unreadable link event; listing the links');
        this.#listSoon();
        continue;
      }
      if (this.#inflight !== undefined) this.#eventsDuringList = true;
      if (this.#inSync && this.#applyEvent(ev)) changed = true;
    }
    if (changed) this.#emit();
  }

  /**
   * Applies one event to the current map; true if it changed. The map is replaced, not changed
   * in place (callers keep the maps they were given), and only when the event changes something.
   */
  #applyEvent(ev: LinkEvent): boolean {
    const gone: string[] = [];
    // The link's index under another name: renamed (or, with `deleted`, gone).
    const byIndex = this.#nameByIndex.get(ev.index);
    if (byIndex !== undefined && this.#current.get(byIndex)?.index === ev.index && (ev.deleted || byIndex !== ev.name)) gone.push(byIndex);
    const now = !ev.deleted && this.#prefixes.some((p) => ev.name.startsWith(p)) ? { up: ev.up, index: ev.index, mac: ev.mac } : undefined;
    const was = this.#current.get(ev.name);
    const updated = now !== undefined && (was === undefined || was.up !== now.up || was.index !== now.index || was.mac !== now.mac);
    if (gone.length === 0 && !updated) return false;
    const next = new Map(this.#current);
    for (const name of gone) next.delete(name);
    if (now !== undefined) {
      next.set(ev.name, now);
      this.#nameByIndex.set(ev.index, ev.name);
    } else this.#nameByIndex.delete(ev.index);
    this.#current = next;
    const names = (this.#changedNames ??= new Set());
    for (const name of gone) names.add(name);
    if (now !== undefined) names.add(ev.name);
    return true;
  }

  /** A list from a timer or an event: failures are logged; the periodic refresh retries. */
  #listInBackground(): void {
    if (!this.#running) return;
    this.listNow().catch((err: unknown) => this.#log.warn({ err: describeError(err) }, 'Interface list failed; will retry'));
  }

  #setTimer(name: 'debounce' | 'refresh' | 'restart' | 'settle', fn: () => void, ms: number): void {
    this.#timers.get(name)?.cancel();
    this.#timers.set(
      name,
      this.#clock.setTimer(() => {
        this.#timers.delete(name);
        fn();
      }, ms),
    );
  }

  #scheduleRefresh(): void {
    this.#setTimer(
      'refresh',
      () => {
        this.#listInBackground();
        if (this.#running) this.#scheduleRefresh();
      },
      this.#refreshMs,
    );
  }

  /** One list after the debounce delay (an unreadable event, a listing that overlapped events), however many ask meanwhile. */
  #listSoon(): void {
    if (this.#running && !this.#timers.has('debounce')) this.#setTimer('debounce', () => this.#listInBackground(), this.#debounceMs);
  }

  #spawn(): void {
    const child = this.#exec.spawn('ip', ['-o', 'monitor', 'link']);
    this.#child = child;
    this.#childStarted = this.#clock.monotonic();
    this.#partialLine = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => this.#onMonitorData(d));
    child.stderr.on('data', (d: Buffer) => this.#log.debug({ stderr: d.toString().trim() }, 'ip monitor stderr'));
    child.stdin.on('error', () => {});
    void child.exited.then((status) => this.#onChildExit(child, status));
    this.#listInBackground();
    this.#setTimer('settle', () => this.#listInBackground(), SETTLE_LIST_MS);
  }

  #onChildExit(child: ChildHandle, status: { code: number | null; signal: string | null }): void {
    if (!this.#running || this.#child !== child) return;
    this.#child = undefined;
    if (this.#clock.monotonic() - this.#childStarted >= HEALTHY_CHILD_MS) this.#restartAttempt = 0;
    const delay = backoffDelay(this.#restartAttempt++, { initialMs: 100, maxMs: 5_000, factor: 2 });
    this.#errors++;
    this.#log.warn({ code: status.code, signal: status.signal, restartInMs: delay }, 'ip monitor exited; restarting');
    this.#setTimer(
      'restart',
      () => {
        if (!this.#running) return;
        this.#restarts++;
        this.#spawn();
      },
      delay,
    );
  }
}
