import { silentLogger, StringCache, type Logger } from '../../lib/index.js';
import type { FelixConfiguration, WorkloadEndpoint } from '../../model/index.js';
import { ActiveRulesCalculator } from './active-rules.js';
import { decodeUpdate, type CalcEvent, type KvChange } from './decode-update.js';
import { IpSetMembers } from './ipset-members.js';
import type { CalcUpdate, LocalEndpoint, PoolInfo } from './model.js';
import { resolveTiers } from './resolve-tiers.js';
import { RuleScanner } from './rule-scanner.js';

export type { KvChange } from './decode-update.js';

export interface CalcGraphOptions {
  readonly hostname: string;
  readonly logger?: Logger;
}

/** What the graph keeps of an endpoint on this host. */
interface LocalRecord {
  readonly wep: WorkloadEndpoint;
  readonly nets: readonly string[];
}

/**
 * The agent's calculation layer (Felix's calc graph): pure and synchronous. It takes datastore
 * changes and works out what this host's dataplane needs: local endpoints with their ordered
 * policies, the rules of every policy that applies to a local endpoint, and IP set members for
 * the selectors those rules use. `flush()` hands over what changed since the last flush.
 *
 * It only wires small units, each with its own tests, as Felix's graph does:
 * `decodeUpdate` (validation filter) → endpoints to `IpSetMembers` (every host's) and, for local
 * ones, to `ActiveRulesCalculator`; policies and profiles to the calculator, which hands the
 * active ones to the `RuleScanner`, which takes IP sets from `IpSetMembers`; `resolveTiers`
 * orders a local endpoint's policies when it is flushed.
 */
export class CalcGraph {
  readonly #host: string;
  readonly #log: Logger;
  readonly #local = new Map<string, LocalRecord>();
  readonly #felixConfigs = new Map<string, FelixConfiguration['spec']>();
  readonly #pools = new Map<string, PoolInfo>();
  #poolsDirty = false;
  #configDirty = false;
  readonly #ipSets = new IpSetMembers();
  readonly #scanner: RuleScanner;
  readonly #active: ActiveRulesCalculator;
  readonly #dirtyEndpoints = new Set<string>();
  /** Label values, shared between endpoints. */
  readonly #strings = new StringCache();

  constructor(options: CalcGraphOptions) {
    this.#host = options.hostname;
    this.#log = options.logger ?? silentLogger();
    this.#scanner = new RuleScanner(this.#ipSets, this.#log);
    this.#active = new ActiveRulesCalculator({
      onActive: (id, source) => this.#scanner.update(id, source),
      onInactive: (id) => this.#scanner.remove(id),
      onEndpointPolicies: (ep) => this.#dirtyEndpoints.add(ep),
    });
  }

  /** Endpoints known cluster-wide, local endpoints, active policies/profiles and IP sets. */
  get stats(): { endpoints: number; localEndpoints: number; activeRules: number; ipSets: number; policies: number } {
    const sets = this.#ipSets.stats;
    return {
      endpoints: sets.endpoints,
      localEndpoints: this.#local.size,
      activeRules: this.#scanner.size,
      ipSets: sets.sets,
      policies: this.#active.policyCount,
    };
  }

  /** The merged FelixConfiguration for this host (`node.<host>` over `default`). */
  felixConfig(): FelixConfiguration['spec'] {
    return { ...(this.#felixConfigs.get('default') ?? {}), ...(this.#felixConfigs.get(`node.${this.#host}`) ?? {}) };
  }

  /** True once since the last call if the FelixConfiguration changed. */
  takeConfigChanged(): boolean {
    const c = this.#configDirty;
    this.#configDirty = false;
    return c;
  }

  onUpdates(changes: readonly KvChange[]): void {
    for (const c of changes) {
      const ev = decodeUpdate(c, this.#host, this.#log, this.#strings);
      if (ev !== undefined) this.#onEvent(ev);
    }
  }

  /** Everything that changed since the last flush, ready for the dataplane. */
  flush(): CalcUpdate {
    const { ipSets, ipSetDeltas } = this.#ipSets.flush();
    const rules = this.#scanner.takeChanged();
    const endpoints = new Map<string, LocalEndpoint | undefined>();
    for (const id of this.#dirtyEndpoints) endpoints.set(id, this.#localEndpoint(id));
    this.#dirtyEndpoints.clear();
    const pools = this.#poolsDirty ? [...this.#pools.values()].sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0)) : undefined;
    this.#poolsDirty = false;
    return { ipSets, ipSetDeltas, rules, endpoints, ...(pools === undefined ? {} : { pools }) };
  }

  #onEvent(ev: CalcEvent): void {
    switch (ev.kind) {
      case 'endpoint': {
        const { id, record } = ev;
        const wasLocal = this.#local.has(id);
        if (record === undefined) this.#ipSets.removeEndpoint(id);
        else this.#ipSets.updateEndpoint(id, record.labels, record.nets);
        if (record?.local !== undefined) {
          this.#local.set(id, { wep: record.local, nets: record.nets });
          this.#active.updateLocalEndpoint(id, record.labels, record.local.spec.profiles ?? []);
          this.#dirtyEndpoints.add(id);
        } else if (wasLocal) {
          this.#local.delete(id);
          this.#active.removeLocalEndpoint(id);
          this.#dirtyEndpoints.add(id);
        }
        break;
      }
      case 'hostEndpoint':
        if (ev.record === undefined) this.#ipSets.removeEndpoint(ev.id);
        else this.#ipSets.updateEndpoint(ev.id, ev.record.labels, ev.record.nets);
        break;
      case 'policy':
        this.#active.updatePolicy(ev.id, ev.policy);
        break;
      case 'profile':
        this.#active.updateProfile(ev.name, ev.profile);
        break;
      case 'felixConfig':
        if (ev.spec === undefined) this.#felixConfigs.delete(ev.name);
        else this.#felixConfigs.set(ev.name, ev.spec);
        this.#configDirty = true;
        break;
      case 'pool':
        if (ev.pool === undefined) this.#pools.delete(ev.name);
        else this.#pools.set(ev.name, ev.pool);
        this.#poolsDirty = true;
        break;
    }
  }

  #localEndpoint(id: string): LocalEndpoint | undefined {
    const rec = this.#local.get(id);
    if (rec === undefined) return undefined;
    const { wep, nets } = rec;
    const iface = wep.spec.interfaceName;
    if (iface === undefined) {
      this.#log.warn({ endpoint: id }, 'Local WorkloadEndpoint has no interfaceName; not programmed');
      return undefined;
    }
    return {
      id,
      iface,
      ...(wep.spec.mac === undefined ? {} : { mac: wep.spec.mac.toLowerCase() }),
      adminUp: true,
      ipv4Nets: nets.filter((n) => !n.includes(':')),
      ipv6Nets: nets.filter((n) => n.includes(':')),
      ipv4Nat: (wep.spec.ipNATs ?? []).filter((n) => !n.externalIP.includes(':')).map((n) => ({ internal: n.internalIP, external: n.externalIP })),
      allowSpoofedSourcePrefixes: wep.spec.allowSpoofedSourcePrefixes ?? [],
      tiers: resolveTiers(this.#active.policiesOf(id)),
      profileIds: (wep.spec.profiles ?? []).map((p) => `pro/${p}`),
      statusIds: { orchestrator: wep.spec.orchestrator ?? 'openstack', workload: wep.spec.workload ?? '', endpoint: wep.spec.endpoint ?? wep.metadata.name },
    };
  }
}
