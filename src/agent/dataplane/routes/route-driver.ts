import { addTo, removeFrom, silentLogger, type Exec, type Logger } from '../../../lib/index.js';
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
  /** Destination → the interfaces that want it (a clash goes to the first up one by name). */
  readonly #claims = new Map<string, Set<string>>();
  #dirty = true;
  /** Interfaces whose wanted routes or state changed since the last apply; `all` after a read-back. */
  #touched: Set<string> | 'all' = 'all';
  /** Counts markForResync calls, so one made while a batch runs is not overwritten by its view. */
  #resyncs = 0;
  /**
   * The kernel's routes and neighbours on workload devices as of our last write, by device, and
   * our routes by destination; undefined = read them back first.
   */
  #kernel: KernelView | undefined;
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
    if (sameRoutes(prev, next)) return;
    this.#setDesired(iface, prev, next.size === 0 ? undefined : next);
  }

  removeIface(iface: string): void {
    const prev = this.#desired.get(iface);
    if (prev !== undefined) this.#setDesired(iface, prev, undefined);
  }

  #setDesired(iface: string, prev: ReadonlyMap<string, Wanted> | undefined, next: Map<string, Wanted> | undefined): void {
    for (const dst of prev?.keys() ?? []) removeFrom(this.#claims, dst, iface);
    for (const dst of next?.keys() ?? []) addTo(this.#claims, dst, iface);
    if (next === undefined) this.#desired.delete(iface);
    else this.#desired.set(iface, next);
    this.#touch(iface);
  }

  #touch(iface: string): void {
    this.#dirty = true;
    if (this.#touched !== 'all') this.#touched.add(iface);
  }

  /** Routes are programmed only to interfaces reported up (exists, admin and oper up). */
  setIfaceUp(iface: string, up: boolean): void {
    if ((this.#up.get(iface) ?? false) === up) return;
    if (up) this.#up.set(iface, true);
    else this.#up.delete(iface);
    this.#touch(iface);
  }

  /** Replaces every interface state at once (e.g. straight from IfaceMonitor's onChange). */
  setIfaceStates(states: ReadonlyMap<string, { readonly up: boolean }>): void {
    for (const iface of [...this.#up.keys()]) if (states.get(iface)?.up !== true) this.setIfaceUp(iface, false);
    for (const [iface, s] of states) this.setIfaceUp(iface, s.up);
  }

  /**
   * `dev` went down, came up or was made again: the kernel dropped its routes (and neighbours)
   * with it. Its view becomes empty, so the next apply writes what it wants there, without
   * reading every route of the host back (half a second with 5,000 taps, each with its own
   * fe80::/64). Anything the kernel kept after all is found by the periodic refresh.
   */
  resetDevice(dev: string): void {
    const kernel = this.#kernel;
    if (kernel !== undefined) {
      for (const r of kernel.routes.get(dev) ?? []) if (kernel.ourDst.get(r.dst) === dev) kernel.ourDst.delete(r.dst);
      kernel.routes.delete(dev);
      kernel.neighs.delete(dev);
    }
    this.#touch(dev);
  }

  /** Makes the next apply read the kernel back even if nothing changed (periodic refresh). */
  markForResync(): void {
    this.#kernel = undefined;
    this.#touched = 'all';
    this.#dirty = true;
    this.#resyncs++;
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
    const touched = this.#touched;
    this.#touched = new Set();
    const resyncs = this.#resyncs;
    try {
      // Between resyncs the kernel view is what we last wrote: one new tap must not cost a
      // dump of every route and neighbour (thousands of taps each have an fe80::/64 route),
      // nor a plan over every tap: only the touched ones (and those sharing a destination).
      let kernel = this.#kernel;
      let devs: Iterable<string>;
      if (kernel === undefined || touched === 'all') {
        kernel ??= indexState(
          await readRouteState(this.#exec, { isOurDev: (d) => this.#isOurDev(d), timeoutMs: this.#timeoutMs }),
          this.#protoNumber,
          this.#metric,
        );
        devs = new Set([...this.#desired.keys(), ...kernel.routes.keys(), ...kernel.neighs.keys()]);
      } else devs = this.#expand(touched, kernel);
      this.#kernel = kernel;
      const { lines, commit } = this.#plan(kernel, devs);
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
      else if (failures.length === 0 && resyncs === this.#resyncs) {
        commit();
        this.#kernel = kernel;
      }
      if (this.#kernel === undefined) this.#touched = 'all';
      return { executed: true, lines: lines.length, failures: real };
    } catch (err) {
      this.#errors++;
      this.#dirty = true;
      this.#kernel = undefined;
      this.#touched = 'all';
      throw err;
    }
  }

  #isOurDev(dev: string): boolean {
    return this.#prefixes.some((p) => dev.startsWith(p));
  }

  /** The touched interfaces and every interface that wants, or in the kernel holds, one of their destinations. */
  #expand(touched: ReadonlySet<string>, kernel: KernelView): Set<string> {
    const devs = new Set(touched);
    for (const iface of touched) {
      const dsts = [...(this.#desired.get(iface)?.keys() ?? []), ...(kernel.routes.get(iface) ?? []).map((r) => r.dst)];
      for (const dst of dsts) {
        for (const other of this.#claims.get(dst) ?? []) devs.add(other);
        const holder = kernel.ourDst.get(dst);
        if (holder !== undefined) devs.add(holder);
      }
    }
    return devs;
  }

  /** The interface that gets `dst`: the first up one by name among those that want it. */
  #owner(dst: string): string | undefined {
    let owner: string | undefined;
    for (const iface of this.#claims.get(dst) ?? []) if (this.#up.get(iface) === true && (owner === undefined || iface < owner)) owner = iface;
    return owner;
  }

  /** The batch lines for `devs` (deletions first, then replacements) and how the view changes once they ran. */
  #plan(kernel: KernelView, devs: Iterable<string>): { lines: string[]; commit: () => void } {
    const routeDels: string[] = [];
    const neighDels: string[] = [];
    const routeAdds: string[] = [];
    const neighAdds: string[] = [];
    const nextRoutes = new Map<string, KernelRoute[]>();
    const nextNeighs = new Map<string, KernelNeigh[]>();
    for (const dev of devs) {
      const desired = this.#desired.get(dev);
      const up = this.#up.get(dev) === true;
      // Desired on an interface that is down: leave whatever the kernel still has alone.
      const parked = (dst: string): boolean => !up && desired?.has(dst) === true;
      const wanted: Wanted[] = [];
      if (up) {
        for (const [dst, w] of desired ?? []) {
          const owner = this.#owner(dst);
          if (owner === dev) wanted.push(w);
          else if (owner !== undefined && dev > owner) this.#log.warn({ cidr: w.cidr.full, winner: owner, loser: dev }, 'route wanted on two interfaces');
        }
      }
      const wantedDst = new Set(wanted.map((w) => w.cidr.printed));
      const routes = kernel.routes.get(dev) ?? [];
      const synced = new Set<string>();
      for (const r of routes) {
        if (r.protocol !== this.#protoNumber) continue;
        const inSync = wantedDst.has(r.dst) && r.metric === this.#metric && (r.family === 6 || r.scope === 'link');
        if (inSync) synced.add(r.dst);
        // A route with our key (dst, metric) is overwritten by `replace` wherever it is wanted.
        else if (!(r.metric === this.#metric && this.#owner(r.dst) !== undefined) && !parked(r.dst)) {
          routeDels.push(`route del ${r.cidr} dev ${r.dev} proto ${this.#protocol} metric ${r.metric} table main`);
        }
      }
      for (const w of wanted) {
        if (synced.has(w.cidr.printed)) continue;
        const scope = w.cidr.family === 4 ? ' scope link' : '';
        routeAdds.push(`route replace ${w.cidr.full} dev ${dev} proto ${this.#protocol}${scope} metric ${this.#metric} table main`);
      }
      const wantedNeigh = new Map<string, Wanted>();
      for (const w of wanted) if (w.mac !== undefined && w.cidr.family === 4 && w.cidr.prefixLength === 32) wantedNeigh.set(w.cidr.address, w);
      const neighs = kernel.neighs.get(dev) ?? [];
      const have = new Map<string, KernelNeigh>();
      for (const n of neighs) {
        have.set(n.ip, n);
        if (n.permanent && !wantedNeigh.has(n.ip) && !parked(n.ip)) neighDels.push(`neigh del ${n.ip} dev ${dev}`);
      }
      for (const [ip, w] of wantedNeigh) {
        const n = have.get(ip);
        if (n?.permanent === true && n.lladdr === w.mac) continue;
        neighAdds.push(`neigh replace ${ip} lladdr ${w.mac ?? ''} dev ${dev} nud permanent`);
      }
      // What the kernel holds on `dev` once the batch has run: others' routes and neighbours as
      // they were, ours exactly as wanted (plus those parked while it is down).
      nextRoutes.set(dev, [
        ...routes.filter((r) => r.protocol !== this.#protoNumber || parked(r.dst)),
        ...wanted.map((w): KernelRoute => ({
          family: w.cidr.family,
          dst: w.cidr.printed,
          cidr: w.cidr.full,
          dev,
          protocol: this.#protoNumber,
          scope: w.cidr.family === 4 ? 'link' : undefined,
          metric: this.#metric,
        })),
      ]);
      nextNeighs.set(dev, [
        ...neighs.filter((n) => !wantedNeigh.has(n.ip) && (!n.permanent || parked(n.ip))),
        ...[...wantedNeigh.values()].map((w): KernelNeigh => ({ ip: w.cidr.address, dev, lladdr: w.mac, permanent: true })),
      ]);
    }
    return {
      lines: [...routeDels, ...neighDels, ...routeAdds, ...neighAdds],
      commit: () => {
        for (const [dev, routes] of nextRoutes) {
          for (const r of kernel.routes.get(dev) ?? []) if (kernel.ourDst.get(r.dst) === dev) kernel.ourDst.delete(r.dst);
          if (routes.length === 0) kernel.routes.delete(dev);
          else kernel.routes.set(dev, routes);
        }
        for (const [dev, routes] of nextRoutes)
          for (const r of routes) if (r.protocol === this.#protoNumber && r.metric === this.#metric) kernel.ourDst.set(r.dst, dev);
        for (const [dev, neighs] of nextNeighs) {
          if (neighs.length === 0) kernel.neighs.delete(dev);
          else kernel.neighs.set(dev, neighs);
        }
      },
    };
  }
}

/** The kernel's view, by device, and our routes (protocol and metric ours) by destination. */
interface KernelView {
  readonly routes: Map<string, KernelRoute[]>;
  readonly neighs: Map<string, KernelNeigh[]>;
  readonly ourDst: Map<string, string>;
}

function indexState(state: { routes: readonly KernelRoute[]; neighs: readonly KernelNeigh[] }, proto: number | string, metric: number): KernelView {
  const view: KernelView = { routes: new Map(), neighs: new Map(), ourDst: new Map() };
  for (const r of state.routes) {
    const list = view.routes.get(r.dev);
    if (list === undefined) view.routes.set(r.dev, [r]);
    else list.push(r);
    if (r.protocol === proto && r.metric === metric) view.ourDst.set(r.dst, r.dev);
  }
  for (const n of state.neighs) {
    const list = view.neighs.get(n.dev);
    if (list === undefined) view.neighs.set(n.dev, [n]);
    else list.push(n);
  }
  return view;
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
