import { addTo, describeError, realClock, removeFrom, silentLogger, type Clock, type Exec, type Logger } from '../../lib/index.js';
import type { ActiveRules, CalcUpdate, IpFamily, LocalEndpoint, PoolInfo } from '../calc/model.js';
import type { DataplaneConfig } from '../config.js';
import {
  endpointChainNames,
  ipSetName,
  policyChainName,
  renderEndpointChains,
  renderFloatingIpChains,
  renderNatOutgoing,
  POOL_SETS,
  renderRpfSkip,
  renderRulesChains,
  renderStaticTables,
  ruleContext,
} from '../rules/index.js';
import { TABLE_NAMES } from './iptables/chain.js';
import type { IptablesBackend } from './iptables/iptables-backend.js';
import { IptablesRules } from './iptables/iptables-rules.js';
import { NftRules } from './nft/nft-rules.js';
import type { DataplaneKind, RulesBackend } from './rules-backend.js';
import { RouteDriver } from './routes/route-driver.js';
import { SysctlDriver } from './sysctl/sysctl-driver.js';
import { ConntrackFlusher } from './conntrack/conntrack-flusher.js';
import { removeOtherDataplane } from './remove-other-dataplane.js';
import { StatusChanges, type StatusChange } from './status-changes.js';

/** An interface as the interface monitor reports it. */
export interface IfaceState {
  readonly up: boolean;
  /** The kernel's interface index: a new one means the interface was made again. */
  readonly index?: number;
}

export interface DataplaneOptions {
  readonly exec: Exec;
  readonly config: DataplaneConfig;
  /** Where rules and IP sets go: iptables + ipset (the default) or Brindle's own nftables table. */
  readonly dataplane?: DataplaneKind;
  /** The iptables backend (iptables dataplane only). */
  readonly backend: IptablesBackend;
  /** The rules backend itself, instead of one made from `dataplane` (tests: a recording fake). */
  readonly rules?: RulesBackend;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

/** Timings of one apply, for logs and metrics. */
export interface ApplyTimings {
  readonly ipsetsMs: number;
  readonly iptablesMs: number;
  readonly routesMs: number;
  readonly totalMs: number;
  readonly iptablesLines: number;
}

/** Whether the endpoint has anything IPv6 to program: an address or a spoofing allowance. */
function hasIpv6(ep: LocalEndpoint): boolean {
  return ep.ipv6Nets.length > 0 || ep.allowSpoofedSourcePrefixes.some((p) => p.includes(':'));
}

/** Whether the endpoint shows in the chains that list every endpoint (RPF exceptions, floating IPs). */
function hasExtras(ep: LocalEndpoint | undefined): boolean {
  return ep !== undefined && (ep.allowSpoofedSourcePrefixes.length > 0 || ep.ipv4Nat.length > 0);
}

function byFamily(nets: readonly string[], family: IpFamily): string[] {
  return nets.filter((n) => n.includes(':') === (family === 6));
}

/** Taps configured in one apply above which their sysctls and routes go side by side. */
const SIDE_BY_SIDE_FROM = 50;

/**
 * The managers (Felix's endpoint, policy, IP set, NAT and routing managers in one place): keeps
 * what the calculation asked for, renders it into chains, sets, routes and sysctls, and hands the
 * drivers only what changed. `apply()` writes in Felix's order: IP set creates and updates, then
 * every iptables table, then IP set deletions (a set in use cannot go); per-tap sysctls and routes
 * beside the rules once the dispatch that drops unknown taps is in place.
 */
export class Dataplane {
  readonly #config: DataplaneConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #families: readonly IpFamily[];
  readonly #rules: RulesBackend;
  readonly routes: RouteDriver;
  readonly #sysctl: SysctlDriver;
  readonly #conntrack: ConntrackFlusher;
  /** Floating IP → the internal address it is DNATed to, as programmed. */
  #fipTargets = new Map<string, string>();
  /** Every local endpoint the calculation gave (valid interface names only). */
  readonly #wanted = new Map<string, LocalEndpoint>();
  /** Interface → the endpoints that name it. */
  readonly #claims = new Map<string, Set<string>>();
  /** The endpoints programmed: one per interface. */
  readonly #endpoints = new Map<string, LocalEndpoint>();
  readonly #ifaceOwner = new Map<string, string>();
  readonly #ifaces = new Map<string, IfaceState>();
  readonly #configured = new Set<string>();
  /** Interfaces seen up since they appeared. */
  readonly #everUp = new Set<string>();
  /** Configured interfaces whose apply has completed: only these count as up in the status. */
  readonly #statusReady = new Set<string>();
  /** Configured in the apply running now (status-ready once it completes). */
  #configuredNow: string[] = [];
  /** Interfaces that may need their sysctls written (up, owned, not configured yet). */
  readonly #toConfigure = new Set<string>();
  readonly #statusChanges = new StatusChanges();
  /**
   * Interfaces whose endpoint has IPv6 (an address or a spoofing allowance): only these get
   * IPv6 chains, dispatch entries and IPv6 sysctls. Any other tap's IPv6 falls to the DROP that
   * ends the IPv6 dispatch chains: one rule for every IPv4-only tap, not two chains each.
   */
  readonly #v6Ifaces = new Set<string>();
  #extrasDirty = true;
  #globalDone = false;
  #otherRemoved = false;
  #otherRetry = false;
  /** Our rules (with the dispatch's DROP for unknown taps) have been written once. */
  #rulesInPlace = false;
  readonly #removeOther: () => Promise<string[]>;

  constructor(o: DataplaneOptions) {
    this.#config = o.config;
    this.#clock = o.clock ?? realClock();
    this.#log = o.logger ?? silentLogger();
    this.#families = o.config.ipv6 ? [4, 6] : [4];
    const common = { exec: o.exec, families: this.#families, logger: this.#log, clock: this.#clock };
    this.#rules = o.rules ?? (o.dataplane === 'nft' ? new NftRules(common) : new IptablesRules({ ...common, backend: o.backend, config: o.config }));
    this.#removeOther = () => removeOtherDataplane(this.#rules.kind, { exec: o.exec, backend: o.backend, families: this.#families, logger: this.#log });
    for (const family of this.#families) {
      const rendered = renderStaticTables(o.config, family);
      for (const table of TABLE_NAMES) {
        for (const c of rendered[table].chains) this.#rules.setChain(family, table, c);
        for (const [kernelChain, rules] of Object.entries(rendered[table].kernel)) this.#rules.setKernelRules(family, table, kernelChain, rules);
      }
    }
    this.routes = new RouteDriver({ exec: o.exec, logger: this.#log, interfacePrefixes: o.config.interfacePrefixes });
    this.#sysctl = new SysctlDriver({ exec: o.exec, logger: this.#log });
    this.#conntrack = new ConntrackFlusher({ exec: o.exec, logger: this.#log });
  }

  /** Which dataplane carries the rules. */
  get kind(): DataplaneKind {
    return this.#rules.kind;
  }

  /** Every rules table driver (for metrics). */
  get tables(): RulesBackend['tables'] {
    return this.#rules.tables;
  }

  /** Takes one batch from the calculation. */
  ingest(u: CalcUpdate): void {
    for (const [id, members] of u.ipSets) {
      for (const family of this.#families) {
        if (members === undefined) this.#rules.removeSet(ipSetName(id, family));
        else this.#rules.setSet(ipSetName(id, family), family, byFamily(members, family));
      }
    }
    for (const [id, d] of u.ipSetDeltas) {
      for (const family of this.#families) {
        this.#rules.removeMembers(ipSetName(id, family), byFamily(d.removed, family));
        this.#rules.addMembers(ipSetName(id, family), byFamily(d.added, family));
      }
    }
    for (const [id, rules] of u.rules) this.#onRules(id, rules);
    for (const [id, ep] of u.endpoints) this.#onEndpoint(id, ep);
    if (u.pools !== undefined) this.#onPools(u.pools);
  }

  /** IP pools: the two pool sets per family and `cali-nat-outgoing` (Felix's masq manager). */
  #onPools(pools: readonly PoolInfo[]): void {
    for (const family of this.#families) {
      const all = byFamily(
        pools.map((p) => p.cidr),
        family,
      );
      const masq = byFamily(
        pools.filter((p) => p.natOutgoing).map((p) => p.cidr),
        family,
      );
      this.#rules.setSet(ipSetName(POOL_SETS.all, family), family, all);
      this.#rules.setSet(ipSetName(POOL_SETS.masq, family), family, masq);
      this.#rules.setChain(family, 'nat', renderNatOutgoing(family, masq.length > 0));
    }
  }

  /**
   * The interface monitor's view of workload interfaces. With `changed`, only those names are
   * looked at (an event costs its interface, not the host's 5,000); without, every name.
   */
  setIfaces(ifaces: ReadonlyMap<string, IfaceState>, changed?: Iterable<string>): void {
    const names = changed ?? new Set([...this.#ifaces.keys(), ...ifaces.keys()]);
    for (const name of names) {
      const was = this.#ifaces.get(name);
      const now = ifaces.get(name);
      if (was?.up === now?.up && was?.index === now?.index) continue;
      // Gone, down, or deleted and made again under the same name (a new index): configure
      // it afresh, and read routes back (they went with the old interface).
      const recreated = now?.index !== undefined && was?.index !== undefined && now.index !== was.index;
      if (now?.up !== true || recreated) this.#unconfigure(name);
      // An interface seen for the first time coming up has no routes of ours: that device's view
      // is empty (no read-back of every route on the host, half a second at 5,000 taps). Any
      // other change (down, up again, gone, renamed, made again) may have left or taken routes
      // in ways that depend on how (a carrier loss keeps them): read them all back.
      if (was !== undefined && (recreated || now?.up !== was.up)) {
        if (now?.up === true && !was.up && !recreated && !this.#everUp.has(name)) this.routes.resetDevice(name);
        else this.routes.markForResync();
      }
      if (now?.up === true) this.#everUp.add(name);
      else if (now === undefined || recreated) this.#everUp.delete(name);
      if (now === undefined) this.#ifaces.delete(name);
      else this.#ifaces.set(name, { up: now.up, ...(now.index === undefined ? {} : { index: now.index }) });
      if (now?.up === true) this.#toConfigure.add(name);
      if (this.#ifaceOwner.has(name)) this.routes.setIfaceUp(name, now?.up === true);
      this.#markStatus(name);
    }
  }

  #unconfigure(iface: string): void {
    this.#configured.delete(iface);
    this.#statusReady.delete(iface);
    this.#sysctl.forget(iface);
    this.#toConfigure.add(iface);
    this.#markStatus(iface);
  }

  /** The endpoint on `iface` may have changed status. */
  #markStatus(iface: string): void {
    const owner = this.#ifaceOwner.get(iface);
    if (owner !== undefined) this.#statusChanges.mark(owner);
  }

  /** Up once its interface is up and configured by an apply that completed (its rules are in). */
  #statusOf(ep: LocalEndpoint): 'up' | 'down' {
    return this.#statusReady.has(ep.iface) && this.#configured.has(ep.iface) && this.#ifaces.get(ep.iface)?.up === true ? 'up' : 'down';
  }

  /** Status per local endpoint: up once its interface is up and configured. */
  endpointStatuses(): { ep: LocalEndpoint; status: 'up' | 'down' }[] {
    return [...this.#endpoints.values()].map((ep) => ({ ep, status: this.#statusOf(ep) }));
  }

  /**
   * The endpoints whose status changed since the last call (`status: undefined` = the endpoint
   * went): what the status reporter writes between full reports.
   */
  takeStatusChanges(): StatusChange[] {
    return this.#statusChanges.take((id) => {
      const ep = this.#endpoints.get(id);
      return ep === undefined ? undefined : { ids: ep.statusIds, status: this.#statusOf(ep) };
    });
  }

  /** Forget every kernel view so the next apply reads back and repairs drift. */
  markForResync(): void {
    this.#rules.markForResync();
    this.routes.markForResync();
    if (this.#otherRetry) {
      this.#otherRetry = false;
      this.#otherRemoved = false;
    }
  }

  async apply(): Promise<ApplyTimings> {
    const t0 = this.#clock.monotonic();
    if (!this.#globalDone) {
      await this.#sysctl.configureGlobal();
      this.#globalDone = true;
    }
    this.#renderShared();
    const t1 = this.#clock.monotonic();
    // Rules first, alone, until the dispatch that drops unknown taps is in place (nft writes that
    // part first, in a moment; iptables writes everything). After, the host side (sysctls and
    // routes) runs beside the rules: a tap whose rules are not in yet is dropped by the dispatch
    // either way, so nothing opens early.
    if (!this.#rulesInPlace) this.#rulesInPlace = await this.#rules.failClosed();
    // The host side starts first: its commands run while the rules' planning holds this thread.
    let host = this.#rulesInPlace ? this.#applyHostSide() : undefined;
    const rulesDone = this.#rules.apply().then(async (r) => {
      if (!this.#otherRemoved) {
        // Once ours are in place (fail closed throughout): the other dataplane's leftovers go.
        // Best effort: a failure is logged and tried again after the next refresh, never
        // holding up our own dataplane.
        this.#otherRemoved = true;
        try {
          const removed = await this.#removeOther();
          if (removed.length > 0) this.#log.info({ removed }, 'Removed what the other dataplane left');
        } catch (err) {
          this.#otherRetry = true;
          this.#log.warn({ err: describeError(err) }, 'Could not remove what the other dataplane left; will retry after the next refresh');
        }
      }
      return r;
    });
    if (!this.#rulesInPlace) {
      await rulesDone;
      this.#rulesInPlace = true;
    }
    const t2 = this.#clock.monotonic();
    host ??= this.#applyHostSide();
    const [rulesResult, hostResult] = await Promise.allSettled([rulesDone, host]);
    if (rulesResult.status === 'rejected') throw rulesResult.reason instanceof Error ? rulesResult.reason : new Error(String(rulesResult.reason));
    if (hostResult.status === 'rejected') throw hostResult.reason instanceof Error ? hostResult.reason : new Error(String(hostResult.reason));
    const rules = rulesResult.value;
    // Rules and host side are in: what this apply configured counts for the status now.
    for (const iface of this.#configuredNow.splice(0)) {
      if (!this.#configured.has(iface)) continue;
      this.#statusReady.add(iface);
      this.#markStatus(iface);
    }
    // After the NAT rules and routes are gone, so no new flow to the old floating IP can start.
    await this.#conntrack.flush();
    const t3 = this.#clock.monotonic();
    return { ipsetsMs: t1 - t0 + rules.setsMs, iptablesMs: rules.rulesMs, routesMs: t3 - t2, totalMs: t3 - t0, iptablesLines: rules.lines };
  }

  /**
   * Per-tap sysctls, then routes: a tap's proxy ARP is on before its route brings traffic in,
   * so the VM's first ARP for its gateway is answered. Many taps at once (a start, a burst) run
   * both side by side instead: one after the other cost seconds at a cold start on 5,000 taps;
   * a VM whose ARP came in that moment asks again (after 1 s). A tap counts as configured once
   * both are in; its rules were in place before either (the dispatch drops a tap it does not
   * know), so nothing opens early.
   */
  async #applyHostSide(): Promise<void> {
    const toConfigure: { iface: string; options: { ipv6: boolean; rpFilter?: number } }[] = [];
    for (const name of this.#toConfigure) {
      // Taps that are down or unowned wait (they come back here when that changes).
      if (this.#ifaces.get(name)?.up !== true || !this.#ifaceOwner.has(name) || this.#configured.has(name)) {
        this.#toConfigure.delete(name);
        continue;
      }
      const ep = this.#endpoints.get(this.#ifaceOwner.get(name) ?? '');
      toConfigure.push({
        iface: name,
        options: { ipv6: this.#v6Ifaces.has(name), ...(ep !== undefined && ep.allowSpoofedSourcePrefixes.length > 0 ? { rpFilter: 0 } : {}) },
      });
    }
    const sysctls = this.#sysctl.configureIfaces(toConfigure).finally(() => {
      for (const t of toConfigure) {
        if (!this.#sysctl.isConfigured(t.iface)) continue;
        this.#configured.add(t.iface);
        this.#toConfigure.delete(t.iface);
        this.#configuredNow.push(t.iface);
      }
    });
    if (toConfigure.length <= SIDE_BY_SIDE_FROM) {
      await sysctls;
      await this.routes.apply();
      return;
    }
    const [sysctlResult, routesResult] = await Promise.allSettled([sysctls, this.routes.apply()]);
    for (const r of [sysctlResult, routesResult]) if (r.status === 'rejected') throw r.reason instanceof Error ? r.reason : new Error(String(r.reason));
  }

  #onRules(id: string, rules: ActiveRules | undefined): void {
    for (const family of this.#families) {
      if (rules === undefined) {
        this.#rules.removeChain(family, 'filter', policyChainName(id, 'ingress'));
        this.#rules.removeChain(family, 'filter', policyChainName(id, 'egress'));
      } else for (const c of renderRulesChains(rules, family, ruleContext(this.#config, family))) this.#rules.setChain(family, 'filter', c);
    }
  }

  /**
   * Endpoints claim interfaces; if several claim one (a port re-bound before the old endpoint
   * went), the lowest id wins, as in Felix, and the next one takes over when the winner goes.
   */
  #onEndpoint(id: string, given: LocalEndpoint | undefined): void {
    let ep = given;
    const affected = new Set<string>();
    const old = this.#wanted.get(id);
    if (old !== undefined) {
      removeFrom(this.#claims, old.iface, id);
      affected.add(old.iface);
    }
    if (given !== undefined && !this.#config.interfacePrefixes.some((p) => given.iface.startsWith(p))) {
      this.#log.error(
        { endpoint: id, iface: given.iface, prefixes: this.#config.interfacePrefixes },
        'Endpoint interface does not match the interface prefixes; not programmed',
      );
      ep = undefined;
    }
    if (ep === undefined) this.#wanted.delete(id);
    else {
      // Spoofing allowances count only when WorkloadSourceSpoofing is Any (Felix's gate).
      this.#wanted.set(id, this.#config.workloadSourceSpoofing === 'Any' ? ep : { ...ep, allowSpoofedSourcePrefixes: [] });
      addTo(this.#claims, ep.iface, id);
      affected.add(ep.iface);
    }
    for (const iface of affected) this.#resolve(iface);
    if (hasExtras(old) || hasExtras(given)) this.#extrasDirty = true;
  }

  #resolve(iface: string): void {
    const claimants = [...(this.#claims.get(iface) ?? [])].sort();
    const winner = claimants[0];
    const current = this.#ifaceOwner.get(iface);
    if (claimants.length > 1) this.#log.error({ iface, endpoints: claimants, winner }, 'Several endpoints claim one interface; the lowest id keeps it');
    if (current !== undefined && current !== winner) this.#dropIface(iface);
    const ep = winner === undefined ? undefined : this.#wanted.get(winner);
    if (winner === undefined || ep === undefined) return;
    this.#ifaceOwner.set(iface, winner);
    if (hasExtras(ep) || hasExtras(this.#endpoints.get(winner))) this.#extrasDirty = true;
    this.#endpoints.set(winner, ep);
    this.#statusChanges.mark(winner);
    this.#toConfigure.add(iface);
    const v6 = this.#config.ipv6 && hasIpv6(ep);
    // Any other tap's IPv6 falls to the DROP that ends the IPv6 dispatch.
    for (const family of this.#families) this.#rules.setDispatchEntry(family, iface, family === 4 || v6);
    if (v6 !== this.#v6Ifaces.has(iface)) {
      if (v6) this.#v6Ifaces.add(iface);
      else this.#v6Ifaces.delete(iface);
      // Its IPv6 sysctls follow.
      this.#unconfigure(iface);
    }
    for (const family of this.#families) {
      if (family === 6 && !v6) {
        const names = endpointChainNames(iface);
        this.#rules.removeChain(family, 'filter', names.to);
        this.#rules.removeChain(family, 'filter', names.from);
      } else for (const c of renderEndpointChains(ep, family, this.#config)) this.#rules.setChain(family, 'filter', c);
    }
    const mac = ep.mac;
    const routes = ep.adminUp
      ? [...ep.ipv4Nets, ...ep.ipv4Nat.map((n) => `${n.external}/32`), ...(this.#config.ipv6 ? ep.ipv6Nets : [])].map((cidr) =>
          mac !== undefined && !cidr.includes(':') ? { cidr, mac } : { cidr },
        )
      : [];
    this.routes.setRoutes(iface, routes);
    this.routes.setIfaceUp(iface, this.#ifaces.get(iface)?.up === true);
  }

  /** Unprograms whatever endpoint owns `iface`: its chains, routes and per-tap state. */
  #dropIface(iface: string): void {
    const owner = this.#ifaceOwner.get(iface);
    if (owner === undefined) return;
    this.#ifaceOwner.delete(iface);
    if (hasExtras(this.#endpoints.get(owner))) this.#extrasDirty = true;
    this.#endpoints.delete(owner);
    this.#statusChanges.mark(owner);
    for (const family of this.#families) this.#rules.setDispatchEntry(family, iface, false);
    const names = endpointChainNames(iface);
    for (const family of this.#families) {
      this.#rules.removeChain(family, 'filter', names.to);
      this.#rules.removeChain(family, 'filter', names.from);
    }
    this.routes.removeIface(iface);
    this.#v6Ifaces.delete(iface);
    this.#configured.delete(iface);
    this.#statusReady.delete(iface);
    this.#sysctl.forget(iface);
  }

  /** A floating IP that went, or now leads to another address, loses its tracked flows. */
  #noteFloatingIps(eps: readonly LocalEndpoint[]): void {
    const now = new Map<string, string>();
    // As the DNAT chain: when one external address maps to several, the lowest internal one wins.
    for (const ep of eps) for (const n of ep.ipv4Nat) if ((now.get(n.external) ?? '\uffff') > n.internal) now.set(n.external, n.internal);
    for (const [ext, int] of this.#fipTargets) if (now.get(ext) !== int) this.#conntrack.add([ext]);
    this.#fipTargets = now;
  }

  /** Chains that depend on the whole set of endpoints: RPF exceptions, floating IPs (only when an endpoint with either changed). */
  #renderShared(): void {
    if (this.#extrasDirty) {
      const eps = [...this.#endpoints.values()];
      for (const family of this.#families) {
        this.#rules.setChain(family, 'raw', renderRpfSkip(eps, family));
        for (const c of renderFloatingIpChains(eps, family)) this.#rules.setChain(family, 'nat', c);
      }
      this.#noteFloatingIps(eps);
      this.#extrasDirty = false;
    }
  }
}
