import { effectivePolicyTypes, hostCidr, LabelIndex, parseIp, parseResourceKey, validateKind, type FelixConfiguration, type GlobalNetworkPolicy, type NetworkPolicy, type Profile, type Rule, type Selector } from '../../model/index.js';
import { addRef, dropRef, silentLogger, type Logger } from '../../lib/index.js';
import { readEndpointRecord, type EndpointRecord } from './endpoint-record.js';
import { selectorIpSetId } from './ipset-id.js';
import type { ActiveRules, CalcUpdate, LocalEndpoint, ParsedRule, PoolInfo, TierPolicies } from './model.js';
import { entitySelector, parseRule, scopedSelector, widenRule, type RuleScope } from './parse-rule.js';

/** A policy as the calculation keeps it (NetworkPolicy or GlobalNetworkPolicy). */
interface PolicyRecord {
  readonly id: string;
  readonly name: string;
  readonly tier: string;
  readonly order: number;
  readonly ingressOn: boolean;
  readonly egressOn: boolean;
  readonly ingress: readonly Rule[];
  readonly egress: readonly Rule[];
  readonly scope: RuleScope;
}

interface ActiveEntry {
  readonly rules: ActiveRules;
  readonly sets: readonly string[];
}

interface SetDelta {
  readonly added: Set<string>;
  readonly removed: Set<string>;
}

export interface CalcGraphOptions {
  readonly hostname: string;
  readonly logger?: Logger;
}

/** One datastore change: a key and its new value (undefined = deleted). */
export interface KvChange {
  readonly key: string;
  readonly value: string | undefined;
}

const DEFAULT_TIER = 'default';

function policyOrder(o: number | undefined): number {
  return o ?? Number.POSITIVE_INFINITY;
}

/**
 * The agent's calculation layer (Felix's calc graph): pure and synchronous. It takes datastore
 * changes, keeps the cluster's endpoints, policies and profiles, and works out what this host's
 * dataplane needs: local endpoints with their ordered policies, the rules of every policy that
 * applies to a local endpoint, and IP set members for the selectors those rules use.
 *
 * Incremental: a policy is matched against local endpoints through one label index and a rule
 * selector against all endpoints through another, so a label or policy change touches only what
 * it matches. `flush()` hands over what changed since the last flush.
 */
export class CalcGraph {
  readonly #host: string;
  readonly #log: Logger;
  readonly #endpoints = new Map<string, EndpointRecord>();
  /** How many of them are on this host (kept, not counted, so a metrics scrape is cheap). */
  #localCount = 0;
  readonly #policies = new Map<string, PolicyRecord>();
  readonly #profiles = new Map<string, Profile>();
  readonly #felixConfigs = new Map<string, FelixConfiguration>();
  readonly #pools = new Map<string, PoolInfo>();
  #poolsDirty = false;
  /** Policy selectors against local endpoints. */
  readonly #policyIndex: LabelIndex<string, string>;
  readonly #policyMatchCount = new Map<string, number>();
  /** Rule selectors against every endpoint. */
  readonly #setIndex: LabelIndex<string, string>;
  readonly #setRefs = new Map<string, number>();
  readonly #setMembers = new Map<string, Map<string, number>>();
  /** Profile name → number of local endpoints naming it. */
  readonly #profileRefs = new Map<string, number>();
  readonly #active = new Map<string, ActiveEntry>();
  // What changed since the last flush.
  readonly #dirtyEndpoints = new Set<string>();
  readonly #dirtyRules = new Set<string>();
  readonly #newSets = new Set<string>();
  readonly #removedSets = new Set<string>();
  /** Sets the dataplane has been told about (by an earlier flush). */
  readonly #sentSets = new Set<string>();
  readonly #setDeltas = new Map<string, SetDelta>();
  #configDirty = false;

  constructor(options: CalcGraphOptions) {
    this.#host = options.hostname;
    this.#log = options.logger ?? silentLogger();
    this.#policyIndex = new LabelIndex<string, string>({
      onMatchStarted: (pol, ep) => this.#policyMatch(pol, ep, +1),
      onMatchStopped: (pol, ep) => this.#policyMatch(pol, ep, -1),
    });
    this.#setIndex = new LabelIndex<string, string>({
      onMatchStarted: (set, ep) => this.#memberNets(set, this.#endpoints.get(ep)?.nets ?? [], +1),
      onMatchStopped: (set, ep) => this.#memberNets(set, this.#endpoints.get(ep)?.nets ?? [], -1),
    });
  }

  /** Endpoints known cluster-wide, local endpoints, active policies/profiles and IP sets. */
  get stats(): { endpoints: number; localEndpoints: number; activeRules: number; ipSets: number; policies: number } {
    return { endpoints: this.#endpoints.size, localEndpoints: this.#localCount, activeRules: this.#active.size, ipSets: this.#setRefs.size, policies: this.#policies.size };
  }

  /** The merged FelixConfiguration for this host (`node.<host>` over `default`). */
  felixConfig(): FelixConfiguration['spec'] {
    return { ...(this.#felixConfigs.get('default')?.spec ?? {}), ...(this.#felixConfigs.get(`node.${this.#host}`)?.spec ?? {}) };
  }

  /** True once since the last call if the FelixConfiguration changed. */
  takeConfigChanged(): boolean {
    const c = this.#configDirty;
    this.#configDirty = false;
    return c;
  }

  onUpdates(changes: readonly KvChange[]): void {
    for (const c of changes) {
      const id = parseResourceKey(c.key);
      if (id === undefined) continue;
      switch (id.kind) {
        case 'WorkloadEndpoint':
          this.#onEndpoint(`${id.namespace ?? ''}/${id.name}`, id.namespace ?? '', c.value);
          break;
        case 'NetworkPolicy':
          this.#onPolicy(`np/${id.namespace ?? ''}/${id.name}`, c.value, { namespace: id.namespace ?? '' });
          break;
        case 'GlobalNetworkPolicy':
          this.#onPolicy(`gnp/${id.name}`, c.value, {});
          break;
        case 'Profile':
          this.#onProfile(id.name, c.value);
          break;
        case 'HostEndpoint':
          this.#onHostEndpoint(id.name, c.value);
          break;
        case 'FelixConfiguration':
          this.#onFelixConfig(id.name, c.value);
          break;
        case 'IPPool':
          this.#onPool(id.name, c.value);
          break;
        default:
          break;
      }
    }
  }

  /** Everything that changed since the last flush, ready for the dataplane. */
  flush(): CalcUpdate {
    const ipSets = new Map<string, readonly string[] | undefined>();
    const ipSetDeltas = new Map<string, { added: readonly string[]; removed: readonly string[] }>();
    for (const id of this.#newSets) {
      ipSets.set(id, [...(this.#setMembers.get(id)?.keys() ?? [])]);
      this.#sentSets.add(id);
    }
    for (const id of this.#removedSets) {
      ipSets.set(id, undefined);
      this.#sentSets.delete(id);
    }
    for (const [id, d] of this.#setDeltas) {
      if (ipSets.has(id) || (d.added.size === 0 && d.removed.size === 0)) continue;
      ipSetDeltas.set(id, { added: [...d.added], removed: [...d.removed] });
    }
    const rules = new Map<string, ActiveRules | undefined>();
    for (const id of this.#dirtyRules) rules.set(id, this.#active.get(id)?.rules);
    const endpoints = new Map<string, LocalEndpoint | undefined>();
    for (const id of this.#dirtyEndpoints) endpoints.set(id, this.#localEndpoint(id));
    this.#newSets.clear();
    this.#removedSets.clear();
    this.#setDeltas.clear();
    this.#dirtyRules.clear();
    this.#dirtyEndpoints.clear();
    const pools = this.#poolsDirty ? [...this.#pools.values()].sort((a, b) => (a.cidr < b.cidr ? -1 : a.cidr > b.cidr ? 1 : 0)) : undefined;
    this.#poolsDirty = false;
    return { ipSets, ipSetDeltas, rules, endpoints, ...(pools === undefined ? {} : { pools }) };
  }

  // ---- IP pools (outgoing NAT) ----

  #onPool(name: string, value: string | undefined): void {
    if (value === undefined) this.#pools.delete(name);
    else {
      try {
        const pool = validateKind('IPPool', JSON.parse(value));
        // A disabled pool still describes addresses in use: it counts for the "all pools" set.
        this.#pools.set(name, { cidr: pool.spec.cidr, natOutgoing: pool.spec.natOutgoing === true });
      } catch (err) {
        this.#log.warn({ name, err: String(err) }, 'Ignoring an invalid IPPool');
        this.#pools.delete(name);
      }
    }
    this.#poolsDirty = true;
  }

  // ---- endpoints ----

  #onEndpoint(id: string, namespace: string, value: string | undefined): void {
    const old = this.#endpoints.get(id);
    const rec = value === undefined ? undefined : readEndpointRecord(value, namespace, this.#host);
    if (value !== undefined && rec === undefined) this.#log.warn({ endpoint: id }, 'Ignoring an invalid WorkloadEndpoint (treated as absent)');
    if (old?.local !== undefined || rec?.local !== undefined) this.#dirtyEndpoints.add(id);

    this.#setRecord(id, old, rec);
    if (rec?.local !== undefined) this.#policyIndex.updateLabels(id, rec.labels);
    else this.#policyIndex.deleteLabels(id);
    this.#profileRefsFor(old, -1);
    this.#profileRefsFor(rec, +1);
  }

  /**
   * Host endpoints take part in selectors as Calico's do: their labels and expected IPs make
   * them members of rule IP sets. (Policy on host interfaces is not enforced yet.)
   */
  #onHostEndpoint(name: string, value: string | undefined): void {
    const id = `hostendpoint:${name}`;
    let rec: EndpointRecord | undefined;
    if (value !== undefined) {
      try {
        const hep = validateKind('HostEndpoint', JSON.parse(value));
        rec = { labels: { ...(hep.metadata.labels ?? {}) }, nets: (hep.spec.expectedIPs ?? []).flatMap((ip) => { const p = parseIp(ip); return p === undefined ? [] : [hostCidr(p)]; }) };
      } catch (err) {
        this.#log.warn({ hostEndpoint: name, err: String(err) }, 'Ignoring an invalid HostEndpoint (treated as absent)');
      }
    }
    this.#setRecord(id, this.#endpoints.get(id), rec);
  }

  /** Stores an endpoint's record and moves it in the set index: addresses first, then labels. */
  #setRecord(id: string, old: EndpointRecord | undefined, rec: EndpointRecord | undefined): void {
    this.#localCount += (rec?.local === undefined ? 0 : 1) - (old?.local === undefined ? 0 : 1);
    if (old !== undefined && rec !== undefined && old.nets.join() !== rec.nets.join()) {
      for (const set of this.#setIndex.selectorsMatching(id)) {
        this.#memberNets(set, old.nets, -1);
        this.#memberNets(set, rec.nets, +1);
      }
    }
    if (rec === undefined) {
      this.#setIndex.deleteLabels(id);
      this.#endpoints.delete(id);
    } else {
      this.#endpoints.set(id, rec);
      this.#setIndex.updateLabels(id, rec.labels);
    }
  }

  #profileRefsFor(rec: EndpointRecord | undefined, delta: number): void {
    for (const name of rec?.local?.spec.profiles ?? []) {
      const n = (this.#profileRefs.get(name) ?? 0) + delta;
      if (n > 0) this.#profileRefs.set(name, n);
      else this.#profileRefs.delete(name);
      if (delta > 0 && n === 1) this.#activate(`pro/${name}`);
      if (delta < 0 && n === 0) this.#deactivate(`pro/${name}`);
    }
  }

  #localEndpoint(id: string): LocalEndpoint | undefined {
    const wep = this.#endpoints.get(id)?.local;
    if (wep === undefined) return undefined;
    const iface = wep.spec.interfaceName;
    if (iface === undefined) {
      this.#log.warn({ endpoint: id }, 'Local WorkloadEndpoint has no interfaceName; not programmed');
      return undefined;
    }
    const nets = this.#endpoints.get(id)?.nets ?? [];
    return {
      id,
      iface,
      ...(wep.spec.mac === undefined ? {} : { mac: wep.spec.mac.toLowerCase() }),
      adminUp: true,
      ipv4Nets: nets.filter((n) => !n.includes(':')),
      ipv6Nets: nets.filter((n) => n.includes(':')),
      ipv4Nat: (wep.spec.ipNATs ?? []).filter((n) => !n.externalIP.includes(':')).map((n) => ({ internal: n.internalIP, external: n.externalIP })),
      allowSpoofedSourcePrefixes: wep.spec.allowSpoofedSourcePrefixes ?? [],
      tiers: this.#tiersOf(id),
      profileIds: (wep.spec.profiles ?? []).map((p) => `pro/${p}`),
      statusIds: { orchestrator: wep.spec.orchestrator ?? 'openstack', workload: wep.spec.workload ?? '', endpoint: wep.spec.endpoint ?? wep.metadata.name },
    };
  }

  #tiersOf(endpointId: string): TierPolicies[] {
    const pols: PolicyRecord[] = [];
    for (const pid of this.#policyIndex.selectorsMatching(endpointId)) {
      const p = this.#policies.get(pid);
      if (p !== undefined) pols.push(p);
    }
    pols.sort((a, b) => (a.order === b.order ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.order < b.order ? -1 : 1));
    const tiers = new Map<string, { ingress: string[]; egress: string[] }>();
    for (const p of pols) {
      let t = tiers.get(p.tier);
      if (t === undefined) tiers.set(p.tier, (t = { ingress: [], egress: [] }));
      if (p.ingressOn) t.ingress.push(p.id);
      if (p.egressOn) t.egress.push(p.id);
    }
    // Named tiers in name order; the default tier last, as its order is unset (infinite).
    const names = [...tiers.keys()].sort((a, b) => (a === DEFAULT_TIER ? 1 : b === DEFAULT_TIER ? -1 : a < b ? -1 : 1));
    return names.map((name) => ({ name, ingress: tiers.get(name)?.ingress ?? [], egress: tiers.get(name)?.egress ?? [] }));
  }

  // ---- policies and profiles ----

  #onPolicy(id: string, value: string | undefined, scope: RuleScope): void {
    const kind = scope.namespace === undefined ? 'GlobalNetworkPolicy' : 'NetworkPolicy';
    let rec: PolicyRecord | undefined;
    let selector: Selector | undefined;
    if (value !== undefined) {
      try {
        const pol: NetworkPolicy | GlobalNetworkPolicy = validateKind(kind, JSON.parse(value));
        const types = effectivePolicyTypes(pol.spec);
        const spec = pol.spec as typeof pol.spec & { namespaceSelector?: string };
        selector =
          spec.namespaceSelector === undefined && spec.serviceAccountSelector === undefined
            ? scopedSelector(spec.selector ?? 'all()', scope)
            : entitySelector(spec.selector, { namespaceSelector: spec.namespaceSelector, ...(spec.serviceAccountSelector === undefined ? {} : { serviceAccounts: { selector: spec.serviceAccountSelector } }) }, scope);
        rec = {
          id,
          name: pol.metadata.name,
          tier: pol.spec.tier ?? DEFAULT_TIER,
          order: policyOrder(pol.spec.order),
          ingressOn: types.includes('Ingress'),
          egressOn: types.includes('Egress'),
          ingress: pol.spec.ingress ?? [],
          egress: pol.spec.egress ?? [],
          scope,
        };
      } catch (err) {
        this.#log.warn({ policy: id, err: String(err) }, 'Ignoring an invalid policy (treated as absent)');
      }
    }
    const old = this.#policies.get(id);
    if (rec === undefined) {
      if (old === undefined) return;
      this.#policies.delete(id);
      this.#policyIndex.deleteSelector(id);
      return;
    }
    this.#policies.set(id, rec);
    if (selector !== undefined) this.#policyIndex.updateSelector(id, selector);
    if (this.#active.has(id)) {
      this.#activate(id);
      for (const ep of this.#policyIndex.matchesOf(id)) this.#dirtyEndpoints.add(ep);
    }
  }

  #onProfile(name: string, value: string | undefined): void {
    if (value === undefined) this.#profiles.delete(name);
    else {
      try {
        this.#profiles.set(name, validateKind('Profile', JSON.parse(value)));
      } catch (err) {
        this.#log.warn({ profile: name, err: String(err) }, 'Ignoring an invalid profile (treated as absent: deny)');
        this.#profiles.delete(name);
      }
    }
    if (this.#profileRefs.has(name)) this.#activate(`pro/${name}`);
  }

  #onFelixConfig(name: string, value: string | undefined): void {
    if (name !== 'default' && name !== `node.${this.#host}`) return;
    if (value === undefined) this.#felixConfigs.delete(name);
    else {
      try {
        this.#felixConfigs.set(name, validateKind('FelixConfiguration', JSON.parse(value)));
      } catch (err) {
        this.#log.warn({ name, err: String(err) }, 'Ignoring an invalid FelixConfiguration');
        return;
      }
    }
    this.#configDirty = true;
  }

  #policyMatch(policyId: string, endpointId: string, delta: number): void {
    this.#dirtyEndpoints.add(endpointId);
    const n = (this.#policyMatchCount.get(policyId) ?? 0) + delta;
    if (n > 0) this.#policyMatchCount.set(policyId, n);
    else this.#policyMatchCount.delete(policyId);
    if (delta > 0 && n === 1) this.#activate(policyId);
    if (delta < 0 && n === 0) this.#deactivate(policyId);
  }

  /** (Re)computes the parsed rules of a policy or profile; new IP sets are taken before old are let go. */
  #activate(id: string): void {
    const sets: string[] = [];
    const sink = (sel: Selector): string => {
      const setId = selectorIpSetId(sel);
      sets.push(setId);
      this.#refSet(setId, sel);
      return setId;
    };
    const parse = (rules: readonly Rule[], scope: RuleScope, dir: string): ParsedRule[] => {
      const out: ParsedRule[] = [];
      rules.forEach((r, i) => {
        const parsed = parseRule(r, scope, sink);
        if (!('reason' in parsed)) {
          out.push(parsed);
          return;
        }
        // Fail closed: an Allow (or Log) rule Brindle cannot render is left out; a Deny is made
        // wider instead, and a Pass becomes a wider Deny (passing more could let more through).
        if (r.action === 'Allow' || r.action === 'Log') {
          this.#log.warn({ rules: id, direction: dir, index: i, reason: parsed.reason }, 'Rule skipped');
          return;
        }
        const widened = parseRule({ ...widenRule(r), action: 'Deny' }, scope, sink);
        this.#log.warn({ rules: id, direction: dir, index: i, reason: parsed.reason }, `${r.action} rule widened to a Deny without the matches Brindle cannot render`);
        if (!('reason' in widened)) out.push(widened);
      });
      return out;
    };
    let rules: ActiveRules;
    if (id.startsWith('pro/')) {
      const prof = this.#profiles.get(id.slice(4));
      rules = { id, ingress: parse(prof?.spec.ingress ?? [], {}, 'ingress'), egress: parse(prof?.spec.egress ?? [], {}, 'egress') };
    } else {
      const pol = this.#policies.get(id);
      if (pol === undefined) return;
      rules = { id, ingress: pol.ingressOn ? parse(pol.ingress, pol.scope, 'ingress') : [], egress: pol.egressOn ? parse(pol.egress, pol.scope, 'egress') : [] };
    }
    const old = this.#active.get(id);
    this.#active.set(id, { rules, sets });
    for (const s of old?.sets ?? []) this.#unrefSet(s);
    this.#dirtyRules.add(id);
  }

  #deactivate(id: string): void {
    const old = this.#active.get(id);
    if (old === undefined) return;
    this.#active.delete(id);
    for (const s of old.sets) this.#unrefSet(s);
    this.#dirtyRules.add(id);
  }

  // ---- IP sets ----

  #refSet(id: string, sel: Selector): void {
    if (!addRef(this.#setRefs, id)) return;
    this.#setMembers.set(id, new Map());
    // A set removed and re-added in one batch is re-sent whole.
    this.#removedSets.delete(id);
    this.#newSets.add(id);
    this.#setIndex.updateSelector(id, sel);
  }

  #unrefSet(id: string): void {
    if (!dropRef(this.#setRefs, id)) return;
    this.#setIndex.deleteSelector(id);
    this.#setMembers.delete(id);
    this.#setDeltas.delete(id);
    this.#newSets.delete(id);
    if (this.#sentSets.has(id)) this.#removedSets.add(id);
  }

  #memberNets(setId: string, nets: readonly string[], delta: number): void {
    const members = this.#setMembers.get(setId);
    if (members === undefined) return;
    for (const net of nets) {
      const n = (members.get(net) ?? 0) + delta;
      if (n > 0) members.set(net, n);
      else members.delete(net);
      const appeared = delta > 0 && n === 1;
      const vanished = delta < 0 && n <= 0;
      if ((!appeared && !vanished) || this.#newSets.has(setId)) continue;
      let d = this.#setDeltas.get(setId);
      if (d === undefined) this.#setDeltas.set(setId, (d = { added: new Set(), removed: new Set() }));
      if (appeared) {
        if (!d.removed.delete(net)) d.added.add(net);
      } else if (!d.added.delete(net)) d.removed.add(net);
    }
  }
}
