import { isDeepStrictEqual } from 'node:util';
import { randomUUID } from 'node:crypto';
import { decodeResource, type KeyValue } from '../../datastore/index.js';
import { dhcpSubnetKey, dhcpSubnetPrefix, resourcePrefix, type CalicoResource, type ResourceOf } from '../../model/index.js';
import { endpointNameForPort, portToEndpoint, portWantsEndpoint, securityGroupToPolicy, subnetToDhcp } from '../translate/index.js';
import { isEndpointPort, rulesInPolicyOrder } from './calico-sync.js';
import type { NeutronDeps } from './neutron-deps.js';
import { AGAIN, casRetry } from './cas-retry.js';
import type { FloatingIpRecord } from '../records.js';

export interface ResyncPhase {
  readonly datastoreItems: number;
  readonly neutronItems: number;
  readonly correct: number;
  readonly updated: number;
  readonly created: number;
  readonly deleted: number;
  readonly lost: number;
  readonly ms: number;
}

export interface ResyncResult {
  readonly ok: boolean;
  readonly phases: Readonly<Record<'subnets' | 'policy' | 'endpoints' | 'felixConfig', ResyncPhase>>;
  readonly totalMs: number;
  readonly error?: string;
}

type Counts = { -readonly [K in keyof ResyncPhase]: ResyncPhase[K] };

function blank(): Counts {
  return { datastoreItems: 0, neutronItems: 0, correct: 0, updated: 0, created: 0, deleted: 0, lost: 0, ms: 0 };
}

/** What decides whether a stored Calico resource is right: labels, annotations and spec. */
function sameResource(stored: CalicoResource, desired: CalicoResource): boolean {
  return (
    isDeepStrictEqual(stored.spec, desired.spec) &&
    isDeepStrictEqual(stored.metadata.labels ?? {}, desired.metadata.labels ?? {}) &&
    isDeepStrictEqual(stored.metadata.annotations ?? {}, desired.metadata.annotations ?? {})
  );
}

/**
 * networking-calico's start-up resync: for DHCP subnet records, `ossg.default.*` policies and
 * OpenStack WorkloadEndpoints, read the datastore side first, then Neutron's objects, and
 * create, update or delete only what differs, each write guarded on the revision read (so a
 * concurrent API write wins and the resync's stale write fails harmlessly). Then merges
 * ClusterInformation and FelixConfiguration. Resources it does not own (other namespaces,
 * operator policies) are never touched.
 */
export async function resync(d: NeutronDeps): Promise<ResyncResult> {
  const start = d.clock.monotonic();
  const phases = { subnets: blank(), policy: blank(), endpoints: blank(), felixConfig: blank() };
  const ns = d.namespace;
  const timed = async (p: Counts, fn: () => Promise<void>): Promise<void> => {
    const t0 = d.clock.monotonic();
    await fn();
    p.ms = Math.round(d.clock.monotonic() - t0);
  };
  try {
    await timed(phases.subnets, async () => {
      const p = phases.subnets;
      const { items: stored } = await d.kv.list(dhcpSubnetPrefix(d.regionString));
      await d.store.sync(); // Neutron's side as new as the datastore, read after Calico's
      const subnets = (await d.store.list('subnets')).items;
      const desired = new Map<string, string>();
      for (const s of subnets) {
        const rec = subnetToDhcp(s);
        if (rec !== undefined) desired.set(dhcpSubnetKey(d.regionString, s.id), JSON.stringify(rec));
      }
      p.datastoreItems = stored.length;
      p.neutronItems = desired.size;
      const seen = new Map(stored.map((kv) => [kv.key, kv]));
      for (const [key, value] of desired) {
        const kv = seen.get(key);
        if (kv?.value === value) p.correct++;
        else if (await writeKey(d, key, kv, value)) p[kv === undefined ? 'created' : 'updated']++;
        else p.lost++;
      }
      for (const kv of stored) {
        if (desired.has(kv.key)) continue;
        if (await writeKey(d, kv.key, kv, undefined)) p.deleted++;
        else p.lost++;
      }
    });

    await timed(phases.policy, async () => {
      const { items } = await d.kv.list(resourcePrefix('NetworkPolicy', ns));
      await d.store.sync(); // Neutron's side as new as the datastore, read after Calico's
      const stored = items.filter((kv) => kv.key.slice(resourcePrefix('NetworkPolicy', ns).length).startsWith('ossg.default.'));
      const groups = (await d.store.list('security-groups')).items;
      const rules = await d.store.listInCreationOrder('security-group-rules');
      const desired = new Map<string, CalicoResource>();
      for (const g of groups) {
        const policy = securityGroupToPolicy(g, rulesInPolicyOrder(rules, g.id), ns);
        desired.set(`${resourcePrefix('NetworkPolicy', ns)}${policy.metadata.name}`, policy);
      }
      await reconcile(d, phases.policy, stored, desired);
    });

    await timed(phases.endpoints, async () => {
      const { items: stored } = await d.kv.list(resourcePrefix('WorkloadEndpoint', ns));
      await d.store.sync(); // Neutron's side as new as the datastore, read after Calico's
      const [ports, networks, subnets, groups, fips] = await Promise.all([
        d.store.list('ports'),
        d.store.list('networks'),
        d.store.list('subnets'),
        d.store.list('security-groups'),
        d.store.list('floatingips'),
      ]);
      const fipsByPort = new Map<string, FloatingIpRecord[]>();
      for (const f of fips.items) if (f.port_id !== null) fipsByPort.set(f.port_id, [...(fipsByPort.get(f.port_id) ?? []), f]);
      const netById = new Map(networks.items.map((n) => [n.id, n]));
      const subnetById = new Map(subnets.items.map((s) => [s.id, s]));
      const groupById = new Map(groups.items.map((g) => [g.id, g]));
      const desired = new Map<string, CalicoResource>();
      for (const port of ports.items) {
        const network = netById.get(port.network_id);
        if (!isEndpointPort(port) || !portWantsEndpoint(port) || network === undefined) continue;
        const wep = portToEndpoint({
          port,
          network,
          subnets: subnetById,
          securityGroups: groupById,
          namespace: ns,
          floatingIps: fipsByPort.get(port.id) ?? [],
        });
        desired.set(`${resourcePrefix('WorkloadEndpoint', ns)}${endpointNameForPort(port)}`, wep);
      }
      await reconcile(d, phases.endpoints, stored, desired);
    });

    await timed(phases.felixConfig, async () => {
      await mergeClusterInformation(d, phases.felixConfig);
      await mergeFelixConfiguration(d, phases.felixConfig);
    });
    return { ok: true, phases, totalMs: Math.round(d.clock.monotonic() - start) };
  } catch (err) {
    return { ok: false, phases, totalMs: Math.round(d.clock.monotonic() - start), error: err instanceof Error ? err.message : String(err) };
  }
}

async function writeKey(d: NeutronDeps, key: string, seen: KeyValue | undefined, value: string | undefined): Promise<boolean> {
  const condition = seen === undefined ? { absent: true as const } : { modRevision: seen.modRevision };
  if (value === undefined) return (await d.kv.delete(key, { condition })).succeeded;
  return (await d.kv.put(key, value, { condition })).succeeded;
}

async function reconcile(d: NeutronDeps, p: Counts, stored: readonly KeyValue[], desired: ReadonlyMap<string, CalicoResource>): Promise<void> {
  p.datastoreItems = stored.length;
  p.neutronItems = desired.size;
  const seen = new Map(stored.map((kv) => [kv.key, kv]));
  for (const [key, want] of desired) {
    const kv = seen.get(key);
    let current: CalicoResource | undefined;
    try {
      current = kv === undefined ? undefined : decodeResource(kv);
    } catch {
      current = undefined; // corrupt: rewrite it
    }
    if (current !== undefined && sameResource(current, want)) {
      p.correct++;
      continue;
    }
    const ref = {
      kind: want.kind,
      name: want.metadata.name,
      ...((want.metadata as { namespace?: string }).namespace === undefined ? {} : { namespace: (want.metadata as { namespace: string }).namespace }),
    };
    if (await d.resources.writeIfUnchanged(ref, kv, want)) p[kv === undefined ? 'created' : 'updated']++;
    else p.lost++;
  }
  for (const kv of stored) {
    if (desired.has(kv.key)) continue;
    if ((await d.kv.delete(kv.key, { condition: { modRevision: kv.modRevision } })).succeeded) p.deleted++;
    else p.lost++;
  }
}

/**
 * Merges what Brindle needs into a cluster-wide singleton (`default`), keeping everything else
 * in its spec: read, compute the merged spec, write guarded on the read, retry on a race.
 */
async function mergeDefault<K extends 'ClusterInformation' | 'FelixConfiguration'>(
  d: NeutronDeps,
  p: Counts,
  kind: K,
  merge: (spec: ResourceOf<K>['spec']) => ResourceOf<K>['spec'],
): Promise<void> {
  // Out of attempts, it is counted lost (the next resync tries again).
  await casRetry(
    d,
    () => void p.lost++,
    async () => {
      const seen = await d.resources.readEntry(kind, 'default');
      const cur = (seen === undefined ? undefined : decodeResource(seen)) as ResourceOf<K> | undefined;
      const spec = merge({ ...(cur?.spec ?? {}) });
      if (cur !== undefined && isDeepStrictEqual(cur.spec, spec)) {
        p.correct++;
        return undefined;
      }
      const desired = { apiVersion: 'projectcalico.org/v3', kind, metadata: { name: 'default' }, spec } as ResourceOf<K>;
      if (await d.resources.writeIfUnchanged({ kind, name: 'default' }, seen, desired)) {
        p[seen === undefined ? 'created' : 'updated']++;
        return undefined;
      }
      return AGAIN;
    },
  );
}

/** ClusterInformation `default`: a cluster GUID, `openstack` in clusterType, datastoreReady unless set false. */
function mergeClusterInformation(d: NeutronDeps, p: Counts): Promise<void> {
  return mergeDefault(d, p, 'ClusterInformation', (spec) => {
    spec.clusterGUID ??= randomUUID().replaceAll('-', '');
    const types = (spec.clusterType ?? '').split(',').filter((t) => t !== '');
    if (!types.includes('openstack')) spec.clusterType = [...types, 'openstack'].join(',');
    spec.datastoreReady ??= true;
    return spec;
  });
}

/** FelixConfiguration `default`: endpoint reporting on, `tap` among the interface prefixes. */
function mergeFelixConfiguration(d: NeutronDeps, p: Counts): Promise<void> {
  return mergeDefault(d, p, 'FelixConfiguration', (spec) => {
    spec.endpointReportingEnabled = true;
    const prefixes = (spec.interfacePrefix ?? '').split(',').filter((t) => t !== '');
    if (!prefixes.includes('tap')) spec.interfacePrefix = [...prefixes, 'tap'].join(',');
    return spec;
  });
}
