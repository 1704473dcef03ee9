import { silentLogger, type Exec, type Logger } from '../../../lib/index.js';
import { kernelCidr, type KernelCidr } from '../ipsets/kernel-cidr.js';
import { RouteBatchError, RouteSpecError } from './errors.js';
import { protocolNumber, readRouteState, type KernelNeigh, type KernelRoute } from './read-route-state.js';

export interface RouteDriverOptions {
  readonly exec: Exec;
  readonly logger?: Logger;
  /** Workload interface prefixes (e.g. `['tap']`); only routes on these devices can be ours. */
  readonly interfacePrefixes: readonly string[];
  /** Protocol of our routes (Felix's DeviceRouteProtocol); name or number. */
  readonly protocol?: string;
  readonly metric?: number;
  readonly timeoutMs?: number;
}

/** One route to a workload: a CIDR (usually a /32 or /128) and, for IPv4, the VM's MAC. */
export interface RouteTarget {
  readonly cidr: string;
  readonly mac?: string;
}

/** A line of the batch that the kernel refused. */
export interface RouteLineFailure {
  readonly line: string;
  readonly message: string;
  /** The device was missing or down: not an error, retried when it comes up. */
  readonly ifaceMissing: boolean;
}

export interface RouteApplyResult {
  /** False when nothing was dirty and no command ran. */
  readonly executed: boolean;
  readonly lines: number;
  readonly failures: readonly RouteLineFailure[];
}

export interface RouteStats {
  readonly ifaces: number;
  readonly upIfaces: number;
  readonly routes: number;
  readonly applies: number;
  readonly linesExecuted: number;
  readonly lineFailures: number;
  readonly errors: number;
}

interface Wanted {
  readonly iface: string;
  readonly cidr: KernelCidr;
  readonly mac: string | undefined;
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
const GONE = /No such process|No such file|Cannot find device|No such device/;
const IFACE_MISSING = /Cannot find device|No such device|not up|Network is down/;

/**
 * Keeps main-table routes (and IPv4 static ARP entries) to workload interfaces equal to a desired
 * model. Ours = device matches a workload prefix AND protocol is ours; nothing else is touched.
 * The first apply and every apply after `markForResync()` read the kernel back; in between, the
 * view is what the last batch wrote. Differences go out in one `ip -force -batch -`.
 * apply() must not be called concurrently with itself.
 */
export class RouteDriver {
  readonly #exec: Exec;
  readonly #log: Logger;
  readonly #prefixes: readonly string[];
  readonly #protocol: string;
  readonly #protoNumber: number | string;
  readonly #metric: number;
  readonly #timeoutMs: number;
  readonly #desired = new Map<string, Map<string, Wanted>>();
  readonly #up = new Map<string, boolean>();
  #dirty = true;
  /** The kernel's routes and neighbours as of our last write; undefined = read them back first. */
  #kernel: { routes: readonly KernelRoute[]; neighs: readonly KernelNeigh[] } | undefined;
  #applies = 0;
  #lines = 0;
  #lineFailures = 0;
  #errors = 0;

  constructor(options: RouteDriverOptions) {
    this.#exec = options.exec;
    this.#log = options.logger ?? silentLogger();
    this.#prefixes = [...options.interfacePrefixes];
    if (this.#prefixes.length === 0 || this.#prefixes.some((p) => p === '')) {
      throw new RouteSpecError('interfacePrefixes must be non-empty prefixes');
    }
    this.#protocol = options.protocol ?? 'boot';
    this.#protoNumber = protocolNumber(this.#protocol);
    this.#metric = options.metric ?? 1024;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Replaces the desired routes of `iface` (an empty list = none). */
  setRoutes(iface: string, routes: readonly RouteTarget[]): void {
    if (!this.#isOurDev(iface)) throw new RouteSpecError(`${iface} does not match the interface prefixes ${this.#prefixes.join(', ')}`);
    const next = new Map<string, Wanted>();
    for (const r of routes) {
      const cidr = kernelCidr(r.cidr);
      if (cidr === undefined) throw new RouteSpecError(`${r.cidr} is not a CIDR`);
      const mac = r.mac?.toLowerCase();
      if (mac !== undefined && !MAC.test(mac)) throw new RouteSpecError(`${r.mac} is not a MAC address`);
      next.set(cidr.printed, { iface, cidr, mac });
    }
    const prev = this.#desired.get(iface);
    if (next.size === 0) this.#desired.delete(iface);
    else this.#desired.set(iface, next);
    if (!sameRoutes(prev, next)) this.#dirty = true;
  }

  removeIface(iface: string): void {
    if (this.#desired.delete(iface)) this.#dirty = true;
  }

  /** Routes are programmed only to interfaces reported up (exists, admin and oper up). */
  setIfaceUp(iface: string, up: boolean): void {
    if ((this.#up.get(iface) ?? false) !== up) this.#dirty = true;
    if (up) this.#up.set(iface, true);
    else this.#up.delete(iface);
  }

  /** Replaces every interface state at once (e.g. straight from IfaceMonitor's onChange). */
  setIfaceStates(states: ReadonlyMap<string, { readonly up: boolean }>): void {
    for (const iface of [...this.#up.keys()]) if (states.get(iface)?.up !== true) this.setIfaceUp(iface, false);
    for (const [iface, s] of states) this.setIfaceUp(iface, s.up);
  }

  /** Makes the next apply read the kernel back even if nothing changed (periodic refresh). */
  markForResync(): void {
    this.#kernel = undefined;
    this.#dirty = true;
  }

  get dirty(): boolean {
    return this.#dirty;
  }

  get stats(): RouteStats {
    let routes = 0;
    for (const m of this.#desired.values()) routes += m.size;
    return {
      ifaces: this.#desired.size,
      upIfaces: this.#up.size,
      routes,
      applies: this.#applies,
      linesExecuted: this.#lines,
      lineFailures: this.#lineFailures,
      errors: this.#errors,
    };
  }

  /** Reads routes/neighbours back and writes the difference; no command at all when not dirty. */
  async apply(): Promise<RouteApplyResult> {
    if (!this.#dirty) return { executed: false, lines: 0, failures: [] };
    this.#dirty = false; // changes made while we run set it again
    try {
      // Between resyncs the kernel view is what we last wrote: one new tap must not cost a
      // dump of every route and neighbour (thousands of taps each have an fe80::/64 route).
      const state = this.#kernel ?? (await readRouteState(this.#exec, { isOurDev: (d) => this.#isOurDev(d), timeoutMs: this.#timeoutMs }));
      this.#kernel = state;
      const { lines, next } = this.#plan(state.routes, state.neighs);
      this.#applies++;
      if (lines.length === 0) return { executed: true, lines: 0, failures: [] };
      this.#kernel = undefined;
      const result = await this.#exec.run('ip', ['-force', '-batch', '-'], { input: `${lines.join('\n')}\n`, timeoutMs: this.#timeoutMs });
      this.#lines += lines.length;
      const failures = parseBatchFailures(result.stderr, lines);
      if (result.code !== 0 && failures.length === 0) throw new RouteBatchError(result);
      const real = failures.filter((f) => !(/^(route|neigh) del /.test(f.line) && GONE.test(f.message)));
      for (const f of real) {
        if (f.ifaceMissing) this.#log.debug({ line: f.line, reason: f.message }, 'route target interface missing or down; will retry');
        else this.#log.warn({ line: f.line, reason: f.message }, 'route programming line failed; will retry');
      }
      this.#lineFailures += real.length;
      if (real.length > 0) this.#dirty = true;
      else if (failures.length === 0) this.#kernel = next;
      return { executed: true, lines: lines.length, failures: real };
    } catch (err) {
      this.#errors++;
      this.#dirty = true;
      throw err;
    }
  }

  #isOurDev(dev: string): boolean {
    return this.#prefixes.some((p) => dev.startsWith(p));
  }

  /** The batch lines: deletions first, then replacements. */
  #plan(routes: readonly KernelRoute[], neighs: readonly KernelNeigh[]): { lines: string[]; next: { routes: KernelRoute[]; neighs: KernelNeigh[] } } {
    const wanted = this.#wanted();
    // Desired on an interface that is down: leave whatever the kernel still has alone.
    const parked = (dst: string, dev: string): boolean => this.#up.get(dev) !== true && this.#desired.get(dev)?.has(dst) === true;
    const ours = routes.filter((r) => r.protocol === this.#protoNumber);
    const inSync = (r: KernelRoute): boolean =>
      wanted.get(r.dst)?.iface === r.dev && r.metric === this.#metric && (r.family === 6 || r.scope === 'link');
    const routeDels: string[] = [];
    const synced = new Set<string>();
    for (const r of ours) {
      if (inSync(r)) synced.add(r.dst);
      // A route with our key (dst, metric) is overwritten by `replace`; no need to delete it first.
      else if (!(r.metric === this.#metric && wanted.has(r.dst)) && !parked(r.dst, r.dev)) {
        routeDels.push(`route del ${r.cidr} dev ${r.dev} proto ${this.#protocol} metric ${r.metric} table main`);
      }
    }
    const routeAdds: string[] = [];
    for (const [dst, w] of wanted) {
      if (synced.has(dst)) continue;
      const scope = w.cidr.family === 4 ? ' scope link' : '';
      routeAdds.push(`route replace ${w.cidr.full} dev ${w.iface} proto ${this.#protocol}${scope} metric ${this.#metric} table main`);
    }
    const wantedNeigh = new Map<string, Wanted>();
    for (const w of wanted.values()) {
      if (w.mac !== undefined && w.cidr.family === 4 && w.cidr.prefixLength === 32) wantedNeigh.set(`${w.cidr.address}|${w.iface}`, w);
    }
    const neighDels: string[] = [];
    const have = new Map<string, KernelNeigh>();
    for (const n of neighs) {
      const key = `${n.ip}|${n.dev}`;
      have.set(key, n);
      if (n.permanent && !wantedNeigh.has(key) && !parked(n.ip, n.dev)) neighDels.push(`neigh del ${n.ip} dev ${n.dev}`);
    }
    const neighAdds: string[] = [];
    for (const [key, w] of wantedNeigh) {
      const n = have.get(key);
      if (n?.permanent === true && n.lladdr === w.mac) continue;
      neighAdds.push(`neigh replace ${w.cidr.address} lladdr ${w.mac ?? ''} dev ${w.iface} nud permanent`);
    }
    // What the kernel holds once the batch has run: others' routes and neighbours as they were,
    // ours exactly as wanted (plus those parked on interfaces that are down).
    const next = {
      routes: [
        ...routes.filter((r) => r.protocol !== this.#protoNumber || parked(r.dst, r.dev)),
        ...[...wanted.values()].map((w): KernelRoute => ({ family: w.cidr.family, dst: w.cidr.printed, cidr: w.cidr.full, dev: w.iface, protocol: this.#protoNumber, scope: w.cidr.family === 4 ? 'link' : undefined, metric: this.#metric })),
      ],
      neighs: [
        ...neighs.filter((n) => !wantedNeigh.has(`${n.ip}|${n.dev}`) && (!n.permanent || parked(n.ip, n.dev))),
        ...[...wantedNeigh.values()].map((w): KernelNeigh => ({ ip: w.cidr.address, dev: w.iface, lladdr: w.mac, permanent: true })),
      ],
    };
    return { lines: [...routeDels, ...neighDels, ...routeAdds, ...neighAdds], next };
  }

  /** Desired routes on up interfaces, one per destination (first interface by name wins a clash). */
  #wanted(): Map<string, Wanted> {
    const wanted = new Map<string, Wanted>();
    for (const iface of [...this.#desired.keys()].sort()) {
      if (this.#up.get(iface) !== true) continue;
      for (const [dst, w] of this.#desired.get(iface) ?? []) {
        const other = wanted.get(dst);
        if (other === undefined) wanted.set(dst, w);
        else this.#log.warn({ cidr: w.cidr.full, winner: other.iface, loser: iface }, 'route wanted on two interfaces');
      }
    }
    return wanted;
  }
}

function sameRoutes(a: ReadonlyMap<string, Wanted> | undefined, b: ReadonlyMap<string, Wanted>): boolean {
  if ((a?.size ?? 0) !== b.size) return false;
  for (const [k, w] of b) {
    const old = a?.get(k);
    if (old === undefined || old.mac !== w.mac) return false;
  }
  return true;
}

/** `ip -force -batch` prints a failing line's error(s), then `Command failed -:<n>`. */
function parseBatchFailures(stderr: string, lines: readonly string[]): RouteLineFailure[] {
  const failures: RouteLineFailure[] = [];
  let pending: string[] = [];
  for (const raw of stderr.split('\n')) {
    const text = raw.trim();
    if (text === '') continue;
    const m = /^Command failed .*:(\d+)$/.exec(text);
    if (m === null) {
      pending.push(text);
      continue;
    }
    const message = pending.join('; ');
    pending = [];
    const line = lines[Number(m[1]) - 1] ?? `line ${m[1]}`;
    failures.push({ line, message, ifaceMissing: IFACE_MISSING.test(message) });
  }
  return failures;
}
